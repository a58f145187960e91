public import CoreMetrics
public import HTTPTypes
public import Hummingbird
public import Logging
import Synchronization

/// The HTTP series: requests by method, route and status; their durations; requests in flight.
public final class HTTPMetrics: Sendable {
    public static let requestsName = "s3kv_http_requests_total"
    public static let durationName = "s3kv_http_request_duration_seconds"
    public static let inFlightName = "s3kv_http_requests_in_flight"
    public static let help = [
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
    public let inFlight: Meter
    private let series = Mutex<[SeriesKey: Series]>([:])

    public init(factory: any MetricsFactory) {
        self.factory = factory
        self.inFlight = Meter(label: Self.inFlightName, factory: factory)
    }

    public func record(method: String, route: String, status: Int, duration: Duration) {
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

    /// Records a finished request: its series, and the access log line (at debug level for
    /// `quiet` routes, the polled ones, unless it failed with a 5xx). The line's fields are only
    /// gathered when it will be written.
    public func finish(
        _ request: Request, logger: Logger, route: String, method: String, status: Int, responseBytes: Int?, duration: Duration, quiet: Bool,
        client: @autoclosure () -> String? = nil, token: String? = nil
    ) {
        self.record(method: method, route: route, status: status, duration: duration)
        let level: Logger.Level = quiet && status < 500 ? .debug : .info
        guard logger.logLevel <= level else { return }
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue),
            "route": .string(route),
            "path": .string(request.uri.path),
            "status": .stringConvertible(status),
            "duration_ms": .stringConvertible((duration / .microseconds(1)).rounded() / 1000),
        ]
        if let length = request.headers[.contentLength].flatMap(Int.init) { metadata["request_bytes"] = .stringConvertible(length) }
        if let responseBytes { metadata["response_bytes"] = .stringConvertible(responseBytes) }
        if let client = client() { metadata["client"] = .string(client) }
        if let token { metadata["token"] = .string(token) }
        logger.log(level: level, "request", metadata: metadata)
    }

    /// The method as a label: the standard methods by name, anything else as `OTHER`, so a
    /// client cannot create series at will.
    public static func methodLabel(_ method: HTTPRequest.Method) -> String {
        switch method {
        case .get, .head, .put, .post, .delete, .patch, .options, .trace, .connect: method.rawValue
        default: "OTHER"
        }
    }
}
