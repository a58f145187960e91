import NIOHTTP1
/// One workflow `s3kv verify` runs against a deployment: a name for the report, a line saying what
/// it shows, and the steps. The steps throw ``CheckFailure`` when the server breaks a rule, and
/// may return a detail for the report (such as whether history is on).
struct Check: Sendable {
    let name: String
    let summary: String
    let run: @Sendable (CheckContext) async throws -> String?

    init(_ name: String, _ summary: String, run: @escaping @Sendable (CheckContext) async throws -> String?) {
        self.name = name
        self.summary = summary
        self.run = run
    }
}

/// What every check is given: the client, and the prefix all its keys live under.
struct CheckContext: Sendable {
    let client: KVClient
    /// `verify-<random hex>/`: every key a run writes is under it, and the run removes them all.
    let prefix: String
    /// The size of the value over the server's cache limit.
    let largeValueBytes: Int

    /// A key of this run: `name` under the run's prefix.
    func key(_ name: String) -> String { self.prefix + name }
}

/// A rule the server broke: what was asked, what came back, what was expected.
public struct CheckFailure: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { self.message }

    init(_ message: String) { self.message = message }
}

/// Fails the check with `message` unless `condition` holds.
func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(CheckFailure) {
    guard condition else { throw CheckFailure(message()) }
}

/// Unwraps `value`, or fails the check with `message`.
func require<T>(_ value: T?, _ message: @autoclosure () -> String) throws(CheckFailure) -> T {
    guard let value else { throw CheckFailure(message()) }
    return value
}
