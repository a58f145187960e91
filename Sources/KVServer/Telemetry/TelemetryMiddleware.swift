import CoreMetrics
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// Measures every request: the HTTP metrics and the access log line.
///
/// Runs outside ``ErrorMiddleware``, so it sees the status the client gets, and inside
/// ``RequestIDMiddleware``, so the access line carries the request id. Requests are labelled by
/// route template (`/kv/{key}`), never by raw path.
struct TelemetryMiddleware: RouterMiddleware {
    typealias Context = KVRequestContext

    /// Polled endpoints are logged at debug level, so a probe every second does not drown the
    /// log; they are counted in the metrics like every request.
    static let quietRoutes: Set<String> = ["/health", "/ready", "/metrics"]

    let routes: RouteTable
    let metrics: HTTPMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let route = self.routes.pattern(forPath: request.uri.path)?.template ?? "unmatched"
        let method = HTTPMetrics.methodLabel(request.method)
        self.metrics.inFlight.increment()
        defer { self.metrics.inFlight.decrement() }
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            // ErrorMiddleware answers every error; count anything that escapes as a 500.
            self.finish(request, context, route: route, method: method, status: 500, bytes: nil, start: start)
            throw error
        }
        self.finish(request, context, route: route, method: method, status: response.status.code, bytes: response.body.contentLength, start: start)
        return response
    }

    private func finish(
        _ request: Request, _ context: Context, route: String, method: String, status: Int, bytes: Int?, start: ContinuousClock.Instant
    ) {
        let elapsed = ContinuousClock.now - start
        self.metrics.record(method: method, route: route, status: status, duration: elapsed)
        let level: Logger.Level = Self.quietRoutes.contains(route) && status < 500 ? .debug : .info
        // The line's fields are only gathered when it will be written.
        guard context.logger.logLevel <= level else { return }
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue),
            "route": .string(route),
            "path": .string(request.uri.path),
            "status": .stringConvertible(status),
            "duration_ms": .stringConvertible((elapsed / .microseconds(1)).rounded() / 1000),
        ]
        if let length = request.headers[.contentLength].flatMap(Int.init) { metadata["request_bytes"] = .stringConvertible(length) }
        if let bytes { metadata["response_bytes"] = .stringConvertible(bytes) }
        context.logger.log(level: level, "request", metadata: metadata)
    }
}

/// The HTTP series: requests by method, route and status; their durations; requests in flight.
final class HTTPMetrics: Sendable {
    static let requestsName = "s3kv_http_requests_total"
    static let durationName = "s3kv_http_request_duration_seconds"
    static let inFlightName = "s3kv_http_requests_in_flight"
    static let help = [
        requestsName: "HTTP requests answered, by method, route template and status code.",
        durationName: "Time from receiving an HTTP request to its response head, by method and route template.",
        inFlightName: "HTTP requests being served.",
    ]

    /// The counter and timer of one label set, made once: asking the registry on every request
    /// would take its lock and hash the labels each time.
    private final class Series: Sendable {
        let requests: CoreMetrics.Counter
        let duration: CoreMetrics.Timer

        init(method: String, route: String, status: Int, factory: any MetricsFactory) {
            self.requests = Counter(
                label: HTTPMetrics.requestsName, dimensions: [("method", method), ("route", route), ("status", String(status))], factory: factory
            )
            self.duration = CoreMetrics.Timer(label: HTTPMetrics.durationName, dimensions: [("method", method), ("route", route)], factory: factory)
        }
    }

    private struct SeriesKey: Hashable {
        var method: String
        var route: String
        var status: Int
    }

    let factory: any MetricsFactory
    let inFlight: Meter
    private let series = Mutex<[SeriesKey: Series]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
        self.inFlight = Meter(label: Self.inFlightName, factory: factory)
    }

    func record(method: String, route: String, status: Int, duration: Duration) {
        let key = SeriesKey(method: method, route: route, status: status)
        let series = self.series.withLock { known in
            if let series = known[key] { return series }
            let series = Series(method: method, route: route, status: status, factory: self.factory)
            known[key] = series
            return series
        }
        series.requests.increment()
        series.duration.recordNanoseconds(Int64(duration / .nanoseconds(1)))
    }

    /// The method as a label: the standard methods by name, anything else as `OTHER`, so a
    /// client cannot create series at will.
    static func methodLabel(_ method: HTTPRequest.Method) -> String {
        switch method {
        case .get, .head, .put, .post, .delete, .patch, .options, .trace, .connect: method.rawValue
        default: "OTHER"
        }
    }
}
