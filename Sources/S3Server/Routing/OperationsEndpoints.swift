import Foundation
import Hummingbird
import NIOCore
import ServerSupport

/// Liveness, readiness and metrics, under `/_s3kv/`: a path no S3 request can have, since `_`
/// is not allowed in a bucket name. They need no signature, as the KV API's do not.
struct OperationsEndpoints: Sendable {
    static let prefix = "/_s3kv/"

    let buckets: BucketRegistry
    let metrics: MetricsRegistry
    /// Set when shutdown begins: readiness turns 503 so a balancer stops sending requests.
    let draining: @Sendable () -> Bool

    /// The answer to `path`, or nil when it is not one of these endpoints.
    func respond(path: String, method: HTTPRequest.Method) -> Response? {
        guard path.hasPrefix(Self.prefix), method == .get || method == .head else { return nil }
        switch path.dropFirst(Self.prefix.count) {
        case "health":
            return Self.json(#"{"status":"ok"}"#, status: .ok)
        case "ready":
            if self.draining() { return Self.json(#"{"status":"not_ready","reason":"shutting down"}"#, status: .serviceUnavailable) }
            if let problem = self.buckets.storageProblem() {
                return Self.json(#"{"status":"not_ready","reason":"\#(problem)"}"#, status: .serviceUnavailable)
            }
            return Self.json(#"{"status":"ready"}"#, status: .ok)
        case "metrics":
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.exposition()))
            )
        default:
            return nil
        }
    }

    private static func json(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
