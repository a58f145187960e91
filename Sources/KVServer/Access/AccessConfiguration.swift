import HTTPTypes

/// How access control treats the operational endpoints, and how it slows guessing.
public struct AccessConfiguration: Sendable, Equatable {
    /// The endpoints that may be left open (`/health` is always open, so a liveness probe
    /// needs no secret).
    public static let configurableEndpoints: [String] = ["/ready", "/metrics", "/openapi.json", "/docs"]

    /// The endpoints served without a token. By default `/ready` (probes), `/openapi.json` and
    /// `/docs` (they describe the API, not its data); `/metrics` needs an admin token.
    public var openEndpoints: Set<String>
    /// How repeated failures from one address are slowed.
    public var throttle: AuthThrottle.Configuration

    public init(
        openEndpoints: Set<String> = ["/ready", "/openapi.json", "/docs"], throttle: AuthThrottle.Configuration = .init()
    ) {
        self.openEndpoints = openEndpoints
        self.throttle = throttle
    }

    /// What a request to `route` (a route template) with `method` needs; nil when it is open.
    func requirement(route: String?, method: HTTPRequest.Method) -> AccessScope? {
        switch route {
        case "/health": return nil
        case "/metrics": return self.openEndpoints.contains("/metrics") ? nil : .admin
        case .some(let route) where route == "/ready" || route == "/openapi.json" || route == "/docs":
            return self.openEndpoints.contains(route) ? nil : .read
        case "/kv/{key}", "/kv":
            switch method {
            case .put, .delete, .post, .patch: return .write
            default: return .read
            }
        default:
            // Unknown paths need a token too, so an anonymous client cannot map the server.
            return .read
        }
    }
}
