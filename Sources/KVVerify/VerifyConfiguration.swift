/// What `s3kv verify` runs against and how: a Sendable value, so a command line, a test or a
/// compose service can each build one.
public struct VerifyConfiguration: Sendable {
    /// The deployment's base URL, such as `http://127.0.0.1:8080` (a trailing `/` is dropped).
    public var url: String
    /// Every key the run writes is under this prefix; by default `verify-<16 random hex digits>/`,
    /// so runs against one deployment never share a key.
    public var prefix: String
    /// How long one request may take, from sending it to its answer's last byte.
    public var requestTimeout: Duration
    /// The size of the value written over the cache limit (the server's default limit is 1 MiB).
    public var largeValueBytes: Int
    /// Only the checks with these names (all when empty).
    public var only: Set<String>
    /// A load phase after the checks, when set.
    public var load: Load?
    /// Headers sent with every request, such as `Authorization`.
    public var headers: [(String, String)]

    /// The load phase: `concurrency` workers for `duration`; the run fails when more than
    /// `allowedErrors` requests fail, or when any acknowledged write is lost.
    public struct Load: Sendable {
        public var concurrency: Int
        public var duration: Duration
        public var allowedErrors: Int

        public init(concurrency: Int, duration: Duration, allowedErrors: Int = 0) {
            self.concurrency = concurrency
            self.duration = duration
            self.allowedErrors = allowedErrors
        }
    }

    public init(
        url: String, prefix: String? = nil, requestTimeout: Duration = .seconds(30), largeValueBytes: Int = (2 << 20) + 17,
        only: Set<String> = [], load: Load? = nil, headers: [(String, String)] = []
    ) {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        self.url = url
        self.prefix = prefix ?? Self.randomPrefix()
        self.requestTimeout = requestTimeout
        self.largeValueBytes = largeValueBytes
        self.only = only
        self.load = load
        self.headers = headers
    }

    static func randomPrefix() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = (0..<16).map { _ in String(Int.random(in: 0..<16, using: &generator), radix: 16) }.joined()
        return "verify-\(digits)/"
    }
}
