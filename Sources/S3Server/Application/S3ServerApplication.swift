public import Hummingbird
import HummingbirdCore
public import Logging
public import NIOCore
import S3Protocol
public import ServerSupport
import ServiceLifecycle

/// Builds the S3 server's HTTP application.
public enum S3ServerApplication {
    /// The application serving `buckets` over HTTP/1.1.
    ///
    /// - Parameters:
    ///   - metrics: the registry the HTTP metrics go to and `/_s3kv/metrics` serves.
    ///   - draining: whether shutdown has begun, for `/_s3kv/ready`.
    ///   - tls: the certificate to serve HTTPS with; nil for plain HTTP.
    public static func make(
        buckets: BucketRegistry,
        configuration: S3ServerConfiguration,
        logger: Logger,
        metrics: MetricsRegistry = MetricsRegistry(),
        draining: @escaping @Sendable () -> Bool = { false },
        tls: TLSCertificates? = nil,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            responder: S3Responder(buckets: buckets, configuration: configuration, metrics: metrics, draining: draining),
            server: HTTPServerBuilder { responder in
                OptionalTLSChannel(GuardedHTTP1Channel(
                    base: HTTP1Channel(responder: responder, configuration: .init(idleTimeout: .init(configuration.idleTimeout))),
                    headerTimeout: configuration.headerTimeout,
                    stallTimeout: configuration.idleTimeout,
                    rejections: .init(factory: metrics.factory),
                    answer: { refusal in
                        // S3's words for what the HTTP parser refuses.
                        let code = refusal.reason == .missingHost ? "InvalidArgument" : "BadRequest"
                        let error = S3Error(code: code, message: refusal.message, status: 400)
                        return ("application/xml", ByteBuffer(bytes: S3Responder.errorDocument(error, requestID: refusal.requestID)))
                    }
                ), certificates: tls)
            },
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "s3kv"),
            onServerRunning: onServerRunning,
            logger: logger
        )
    }
}
