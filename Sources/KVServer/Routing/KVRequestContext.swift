public import Hummingbird
import Logging
public import NIOCore
public import ServerSupport

/// The per-request context of the s3kv HTTP API: Hummingbird's core context plus the request id
/// every response and log line of the request carries.
public struct KVRequestContext: RequestIDContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``RequestIDMiddleware`` before any handler runs.
    public var requestID: String
    /// The connection's peer: the client, or the proxy in front of it.
    public var remoteAddress: SocketAddress?
    /// What the request's token allows; set by ``AuthenticationMiddleware`` when access
    /// control is on.
    public var access: AccessGrant

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = ""
        self.remoteAddress = source.channel.remoteAddress
        self.access = .unrestricted
    }
}
