import CoreMetrics
import HTTPTypes
import Hummingbird
import ServerSupport

/// Refuses requests whose token does not allow what they ask for: 401 without a usable token,
/// 403 with one whose scope is too small, 429 from an address that failed too often.
///
/// It runs before the router, so no path (not even one the router only finds by bytes) reaches
/// a handler unchecked; prefixes are checked by the handlers, which know the keys. Refusals are
/// rendered as ``ErrorMiddleware`` renders errors and counted in the same metric, and in
/// `s3kv_auth_failures_total` by reason.
struct AuthorizationMiddleware: RouterMiddleware {
    typealias Context = KVRequestContext

    static let failuresName = "s3kv_auth_failures_total"
    static let metricHelp = [failuresName: "Requests refused by access control, by reason."]

    let routes: RouteTable
    let configuration: AccessConfiguration
    let throttle: AuthThrottle
    let trustedProxies: TrustedProxies
    let metrics: any MetricsFactory

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if case .unrestricted = context.access { return try await next(request, context) }
        let route = self.routes.pattern(forPath: request.uri.path)?.template
        guard let needed = self.configuration.requirement(route: route, method: request.method) else {
            return try await next(request, context)
        }
        // The fast path: a good token, and no address is being slowed.
        if case .token(let token) = context.access, token.scope >= needed, self.throttle.isIdle {
            return try await next(request, context)
        }
        if let refusal = self.refusal(request, context: context, needed: needed) {
            return refusal
        }
        return try await next(request, context)
    }

    /// The answer to a request that may not go on, or nil. Out of line, so the fast path's
    /// async frame does not carry its locals.
    @inline(never)
    private func refusal(_ request: Request, context: Context, needed: AccessScope) -> Response? {
        let client = self.trustedProxies.client(peer: context.remoteAddress, forwardedFor: request.headers[values: .xForwardedFor]) ?? ""
        if let wait = self.throttle.wait(for: client) {
            return self.refuse(.throttled(retryAfter: wait), request, context)
        }
        switch context.access {
        case .unrestricted:
            return nil
        case .none(let failure):
            self.throttle.recordFailure(from: client)
            return self.refuse(.unauthorized(failure), request, context)
        case .token(let token):
            guard token.scope >= needed else { return self.refuse(.missingScope(needed, token: token), request, context) }
            return nil
        }
    }

    private func refuse(_ error: APIError, _ request: Request, _ context: Context) -> Response {
        ErrorMiddleware.count(error, metrics: self.metrics)
        return ErrorMiddleware.response(for: error, request: request, requestID: context.requestID)
    }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("x-forwarded-for")!
}
