public import ServiceLifecycle
import Synchronization

/// Readiness for a server behind a load balancer: turns off the moment graceful shutdown begins,
/// then holds the shutdown back for `delay` while the server keeps serving.
///
/// Listed after the server in a service group (services hear of shutdown last to first), it runs
/// first on SIGTERM: `/ready` answers 503 at once, and only after `delay` does the server stop
/// accepting connections and drain. A balancer that polls readiness, or an orchestrator that
/// removes the endpoint, gets that long to stop sending new requests before any are refused.
public final class DrainState: Service, Sendable {
    private let draining = Atomic<Bool>(false)
    /// How long the server keeps serving after readiness turns off.
    public let delay: Duration

    public init(delay: Duration = .zero) {
        self.delay = delay
    }

    /// Whether graceful shutdown has begun.
    public var isDraining: Bool { self.draining.load(ordering: .relaxed) }

    public func run() async throws {
        try? await gracefulShutdown()
        self.draining.store(true, ordering: .relaxed)
        if self.delay > .zero {
            // Cancelled (the shutdown timeout passed, or a second signal): stop waiting at once.
            try? await Task.sleep(for: self.delay)
        }
    }
}
