public import Hummingbird
import HummingbirdCore
public import KVStore
public import Logging
import NIOCore
public import ServerSupport
public import ServiceLifecycle

/// Builds the s3kv HTTP application.
public enum KVApplication {
    /// The router with every endpoint and middleware, for the server and for tests.
    ///
    /// Middleware, outermost first: request id (so everything after it is tagged), with access
    /// control authentication (so the access log names the token), telemetry (sees the final
    /// status), the request deadline (everything after it ends by then), with access control
    /// authorization (before any route is looked up), errors (turns every error into a JSON
    /// answer), the in-flight limit (a shed request still gets its JSON 503).
    ///
    /// - Parameters:
    ///   - metrics: the registry HTTP metrics go to and `/metrics` serves.
    ///   - readiness: what `/ready` answers; by default a probe of the store's backend.
    ///   - requestIDs: makes ids for requests that bring none; injected so tests are exact.
    ///   - draining: true once graceful shutdown has begun, when `/ready` answers 503.
    ///   - tokens: the accepted bearer tokens; nil turns access control off.
    ///   - throttle: slows addresses that fail to authenticate; by default one made from
    ///     `configuration.access.throttle`.
    public static func router(
        store: KeyValueStore,
        configuration: ServerConfiguration,
        metrics: MetricsRegistry = KVMetrics.registry(),
        readiness: ReadinessCheck? = nil,
        requestIDs: @escaping @Sendable () -> String = RequestID.random,
        draining: @escaping @Sendable () -> Bool = { false },
        tokens: AccessTokens? = nil,
        throttle: AuthThrottle? = nil
    ) -> Router<KVRequestContext> {
        var routes = RouteTable()
        let bodies = BodyReader(budget: BufferBudget(capacity: configuration.bufferBytes, maximumWait: configuration.bufferWait))
        let values = KVController(store: store, maxValueBytes: configuration.maxValueBytes, bodies: bodies)
        values.declare(in: &routes)
        CollectionRoutes(
            values: values, list: ListController(store: store),
            batch: BatchController(store: store, configuration: configuration, bodies: bodies)
        ).declare(in: &routes)
        OperationsController(readiness: readiness ?? ReadinessCheck(probe: store.probe), metrics: metrics, draining: draining)
            .declare(in: &routes)
        APIDocsController().declare(in: &routes)

        let router = Router(context: KVRequestContext.self)
        router.add(middleware: RequestIDMiddleware(generate: requestIDs))
        if let tokens { router.add(middleware: AuthenticationMiddleware(tokens: tokens)) }
        router.add(
            middleware: TelemetryMiddleware(routes: routes, metrics: HTTPMetrics(factory: metrics.factory), trustedProxies: configuration.trustedProxies)
        )
        router.add(middleware: DeadlineMiddleware(timeout: configuration.requestTimeout))
        if tokens != nil {
            router.add(
                middleware: AuthorizationMiddleware(
                    routes: routes, configuration: configuration.access,
                    throttle: throttle ?? AuthThrottle(configuration.access.throttle),
                    trustedProxies: configuration.trustedProxies, metrics: metrics.factory
                )
            )
        }
        router.add(middleware: ErrorMiddleware(routes: routes, maxValueBytes: configuration.maxValueBytes, metrics: metrics.factory))
        router.add(middleware: InFlightLimitMiddleware(limit: configuration.maxRequestsInFlight))
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
        draining: @escaping @Sendable () -> Bool = { false },
        tokens: AccessTokens? = nil,
        tls: TLSCertificates? = nil,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(store: store, configuration: configuration, metrics: metrics, draining: draining, tokens: tokens),
            server: HTTPServerBuilder { responder in
                OptionalTLSChannel(GuardedHTTP1Channel(
                    base: HTTP1Channel(
                        responder: responder,
                        configuration: HTTP1Channel.Configuration(
                            idleTimeout: .init(configuration.idleTimeout),
                            httpDecoderConfiguration: .init(
                                maxHeaderFieldSize: configuration.maxHeaderBytes, maxHeaderListSize: configuration.maxHeaderBytes,
                                maxHeaderFieldCount: 100
                            )
                        )
                    ),
                    headerTimeout: configuration.headerTimeout,
                    stallTimeout: configuration.idleTimeout,
                    rejections: .init(factory: metrics.factory),
                    answer: { refusal in
                        let error = APIError(.badRequest, code: refusal.reason.rawValue, message: refusal.message)
                        return ("application/json; charset=utf-8", error.body(requestID: refusal.requestID))
                    }
                ), certificates: tls)
            },
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "s3kv",
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections, logger: logger)
            ),
            services: services,
            onServerRunning: onServerRunning,
            logger: logger
        )
    }
}
