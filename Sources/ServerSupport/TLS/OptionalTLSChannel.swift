public import HummingbirdCore
public import Logging
public import NIOCore
import NIOSSL

/// A child channel that speaks TLS in front of `base` when certificates are configured, and
/// plain HTTP when not: one channel type for both, so a server's setup has one shape.
///
/// Hummingbird's `TLSChannel` makes its SSL context once; this one takes the context in force
/// for each new connection from ``TLSCertificates``, so a certificate rotated on disk is
/// served after a reload without a restart or a dropped connection.
public struct OptionalTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Base.Value

    let base: Base
    let certificates: TLSCertificates?

    public init(_ base: Base, certificates: TLSCertificates?) {
        self.base = base
        self.certificates = certificates
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard let certificates = self.certificates else { return self.base.setup(channel: channel, logger: logger) }
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: certificates.current))
        }.flatMap {
            self.base.setup(channel: channel, logger: logger)
        }
    }

    public func handle(value: Value, logger: Logger) async {
        await self.base.handle(value: value, logger: logger)
    }
}
