import Hummingbird
import KVStore
import Logging
import NIOCore
import ServiceLifecycle

/// Settings of the HTTP server.
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

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        maxValueBytes: Int = ServerConfiguration.defaultMaxValueBytes,
        maxBatchBytes: Int = 64 * 1024 * 1024,
        batchConcurrency: Int = 16
    ) {
        self.host = host
        self.port = port
        self.maxValueBytes = maxValueBytes
        self.maxBatchBytes = maxBatchBytes
        self.batchConcurrency = batchConcurrency
    }
}

/// Builds the s3kv HTTP application.
public enum KVApplication {
    /// The router with every endpoint and middleware, for the server and for tests.
    ///
    /// Middleware, outermost first: request id (so everything after it is tagged), telemetry
    /// (sees the final status), errors (turns every error into a JSON answer).
    ///
    /// - Parameters:
    ///   - metrics: the registry HTTP metrics go to and `/metrics` serves.
    ///   - readiness: what `/ready` answers; by default a probe of the store's backend.
    ///   - requestIDs: makes ids for requests that bring none; injected so tests are exact.
    public static func router(
        store: KeyValueStore,
        configuration: ServerConfiguration,
        metrics: MetricsRegistry = MetricsRegistry(),
        readiness: ReadinessCheck? = nil,
        requestIDs: @escaping @Sendable () -> String = RequestIDMiddleware.randomID
    ) -> Router<KVRequestContext> {
        var routes = RouteTable()
        let values = KVController(store: store, maxValueBytes: configuration.maxValueBytes)
        values.declare(in: &routes)
        CollectionRoutes(
            values: values, list: ListController(store: store), batch: BatchController(store: store, configuration: configuration)
        ).declare(in: &routes)
        OperationsController(readiness: readiness ?? ReadinessCheck(probe: store.probe), metrics: metrics).declare(in: &routes)
        APIDocsController().declare(in: &routes)

        let router = Router(context: KVRequestContext.self)
        router.add(middleware: RequestIDMiddleware(generate: requestIDs))
        router.add(middleware: TelemetryMiddleware(routes: routes, metrics: HTTPMetrics(factory: metrics.factory)))
        router.add(middleware: ErrorMiddleware(routes: routes, maxValueBytes: configuration.maxValueBytes))
        routes.register(on: router)
        return router
    }

    /// The application: the router served over HTTP/1.1 with the given services alongside.
    public static func make(
        store: KeyValueStore,
        configuration: ServerConfiguration,
        metrics: MetricsRegistry,
        logger: Logger,
        services: [any Service] = [],
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(store: store, configuration: configuration, metrics: metrics),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "s3kv"),
            services: services,
            onServerRunning: onServerRunning,
            logger: logger
        )
    }
}
