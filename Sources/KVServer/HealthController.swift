import Hummingbird

/// `GET /health`: liveness. Answers without touching storage, so a slow or failing backend never
/// makes an orchestrator restart a process that is itself healthy.
struct HealthController: Sendable {
    func declare(in routes: inout RouteTable) {
        routes.add(
            .exact("/health"),
            [
                (.get, { _, _ in try JSONResponse.make(["status": "ok"]) }),
                (.head, { _, _ in Response(status: .ok) }),
            ]
        )
    }
}
