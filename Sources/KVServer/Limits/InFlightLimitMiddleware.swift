public import Hummingbird
import Synchronization

/// Bounds the requests this instance works on at once (`KV_MAX_IN_FLIGHT`): one over the limit
/// is answered at once with 503 `overloaded` and `Retry-After`, so a burst sheds load instead of
/// queueing behind a slow backend until every client times out.
///
/// Liveness, readiness and metrics are never shed: an overloaded instance must still say so.
public struct InFlightLimitMiddleware: RouterMiddleware {
    public typealias Context = KVRequestContext

    /// Paths that are always served.
    static let exempt: Set<String> = ["/health", "/ready", "/metrics"]

    let limit: Int
    private let count: Counter

    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    public init(limit: Int) {
        self.limit = limit
        self.count = Counter()
    }

    /// Requests in flight now.
    public var inFlight: Int { self.count.value.load(ordering: .relaxed) }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.exempt.contains(request.uri.path) { return try await next(request, context) }
        let now = self.count.value.wrappingAdd(1, ordering: .relaxed).newValue
        defer { self.count.value.wrappingSubtract(1, ordering: .relaxed) }
        guard now <= self.limit else {
            throw APIError.overloaded("\(self.limit) requests are in flight already")
        }
        return try await next(request, context)
    }
}
