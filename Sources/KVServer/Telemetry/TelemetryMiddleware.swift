import CoreMetrics
import HTTPTypes
import Hummingbird
import Logging
import ServerSupport

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
    /// Whose `X-Forwarded-For` names the client in the access log.
    let trustedProxies: TrustedProxies

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
        self.metrics.finish(
            request, logger: context.logger, route: route, method: method, status: status, responseBytes: bytes,
            duration: ContinuousClock.now - start, quiet: Self.quietRoutes.contains(route),
            client: self.trustedProxies.client(peer: context.remoteAddress, forwardedFor: request.headers[values: .xForwardedFor]),
            token: context.access.tokenName
        )
    }
}
