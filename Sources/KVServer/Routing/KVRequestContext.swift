import Hummingbird
import Logging
import ServerSupport

/// The per-request context of the s3kv HTTP API: Hummingbird's core context plus the request id
/// every response and log line of the request carries.
public struct KVRequestContext: RequestIDContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``RequestIDMiddleware`` before any handler runs.
    public var requestID: String

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = ""
    }
}
