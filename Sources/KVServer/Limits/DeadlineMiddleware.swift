public import Hummingbird
import ObjectStore

/// Gives each request a deadline (`KV_REQUEST_TIMEOUT`): everything the request waits for
/// (its body, the per-key write queue, the buffer budget, every backend request and retry)
/// ends at it, so every request is answered within it, whatever the backend or the client does.
///
/// The deadline is carried as ``Deadline/current``; each wait enforces it where it happens and
/// answers with what it knows (a 408 for a body still arriving, a 503 for a backend that
/// did not answer, `outcome_unknown` for a write whose answer was lost).
public struct DeadlineMiddleware: RouterMiddleware {
    public typealias Context = KVRequestContext

    let timeout: Duration

    public init(timeout: Duration) {
        self.timeout = timeout
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await Deadline.withTimeout(self.timeout) { try await next(request, context) }
    }
}
