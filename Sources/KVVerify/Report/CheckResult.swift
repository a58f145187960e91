/// The outcome of one check: passed or not, how long it took, and what it found.
public struct CheckResult: Sendable, Codable, Equatable {
    public var name: String
    public var summary: String
    public var passed: Bool
    public var milliseconds: Double
    /// On failure, the broken rule; on success, an optional note ("history off").
    public var detail: String?

    enum CodingKeys: String, CodingKey {
        case name, summary, passed, detail
        case milliseconds = "duration_ms"
    }
}
