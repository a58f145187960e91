import Hummingbird
import NIOCore
import ServerSupport

/// The endpoints operators and their tools use: liveness, readiness and metrics.
struct OperationsController: Sendable {
    let readiness: ReadinessCheck
    let metrics: MetricsRegistry
    /// True once graceful shutdown has begun: readiness is off from then on.
    let draining: @Sendable () -> Bool

    func declare(in routes: inout RouteTable) {
        // Liveness answers without touching storage, so a slow or failing backend never makes
        // an orchestrator restart a process that is itself healthy.
        routes.add(
            .exact("/health"),
            [
                (.get, { _, _ in try JSONResponse.make(["status": "ok"]) }),
                (.head, { _, _ in Response(status: .ok) }),
            ]
        )
        routes.add(.exact("/ready"), [(.get, { _, _ in try await self.ready() })])
        routes.add(.exact("/metrics"), [(.get, { _, _ in self.exposition() })])
    }

    /// 200 when the backend answers, 503 with the reason when it does not or when shutdown has
    /// begun (so a balancer stops sending requests while those in flight finish).
    private func ready() async throws -> Response {
        if self.draining() {
            return try JSONResponse.make(["status": "not_ready", "reason": "shutting down"], status: .serviceUnavailable)
        }
        switch await self.readiness.status() {
        case .ready:
            return try JSONResponse.make(["status": "ready"])
        case .notReady(let reason):
            return try JSONResponse.make(["status": "not_ready", "reason": reason], status: .serviceUnavailable)
        }
    }

    private func exposition() -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.exposition()))
        )
    }
}
