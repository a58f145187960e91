import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// Builds the S3 server's HTTP application.
public enum S3ServerApplication {
    /// The application serving `buckets` over HTTP/1.1.
    public static func make(
        buckets: BucketRegistry,
        configuration: S3ServerConfiguration,
        logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            responder: S3Responder(buckets: buckets, configuration: configuration),
            server: .http1(configuration: .init(idleTimeout: .seconds(60))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "s3kv"),
            onServerRunning: onServerRunning,
            logger: logger
        )
    }
}
