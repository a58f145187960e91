public import ServerSupport

/// Settings of the HTTP server: what it listens on and the bounds it keeps.
public struct ServerConfiguration: Sendable, Equatable {
    /// The default value size limit: values are buffered in memory (the backend needs their
    /// length and checksum before the upload), so the limit bounds memory per request.
    public static let defaultMaxValueBytes = 16 * 1024 * 1024

    /// The address to listen on.
    public var host: String
    /// The port to listen on; 0 picks a free port (reported once listening).
    public var port: Int
    /// The largest value a PUT accepts, in bytes.
    public var maxValueBytes: Int
    /// The largest batch request body, in bytes: batches are read whole before validation.
    public var maxBatchBytes: Int
    /// How many items of a batch go to the backend at once.
    public var batchConcurrency: Int
    /// The request-body bytes all requests may hold in memory at once (see ``BufferBudget``).
    public var bufferBytes: Int
    /// How long a request waits for room in the buffer budget before a 503 `overloaded`.
    public var bufferWait: Duration
    /// How long a request may take from its head to its answer, everything included.
    public var requestTimeout: Duration
    /// How long a connection may go without a request part: idle between requests, or stalled
    /// while sending one (a header that trickles in, a body that stops).
    public var idleTimeout: Duration
    /// How long a request head may take to arrive once its first byte has (slow-header clients).
    public var headerTimeout: Duration
    /// The most connections served at once; more wait in the listen backlog.
    public var maxConnections: Int
    /// The most requests worked on at once; more are answered 503 `overloaded`.
    public var maxRequestsInFlight: Int
    /// The largest request head (all header fields), in bytes.
    public var maxHeaderBytes: Int
    /// The proxies whose `X-Forwarded-For` names the client in the access log
    /// (`KV_TRUSTED_PROXIES`); none by default, so the log shows the connection's peer.
    public var trustedProxies: TrustedProxies
    /// Which operational endpoints stay open when access control is on, and how failed
    /// authentications are slowed.
    public var access: AccessConfiguration

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        maxValueBytes: Int = ServerConfiguration.defaultMaxValueBytes,
        maxBatchBytes: Int = 64 * 1024 * 1024,
        batchConcurrency: Int = 16,
        bufferBytes: Int = 256 * 1024 * 1024,
        bufferWait: Duration = .seconds(1),
        requestTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(75),
        headerTimeout: Duration = .seconds(10),
        maxConnections: Int = 4096,
        maxRequestsInFlight: Int = 1024,
        maxHeaderBytes: Int = 16 * 1024,
        trustedProxies: TrustedProxies = .none,
        access: AccessConfiguration = .init()
    ) {
        self.host = host
        self.port = port
        self.maxValueBytes = maxValueBytes
        self.maxBatchBytes = maxBatchBytes
        self.batchConcurrency = batchConcurrency
        self.bufferBytes = bufferBytes
        self.bufferWait = bufferWait
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.maxConnections = maxConnections
        self.maxRequestsInFlight = maxRequestsInFlight
        self.maxHeaderBytes = maxHeaderBytes
        self.trustedProxies = trustedProxies
        self.access = access
    }
}
