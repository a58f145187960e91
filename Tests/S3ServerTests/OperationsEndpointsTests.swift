import AsyncHTTPClient
import Foundation
import NIOHTTP1
import S3Protocol
import TestSupport
import Testing

/// What operators use on the own S3 server: health, readiness and metrics outside the S3
/// namespace and unsigned, request ids a proxy can set, requests counted by S3 operation.
@Suite("Operations endpoints of the own S3 server")
struct OperationsEndpointsTests {
    @Test("health and readiness answer unsigned under /_s3kv/; metrics count requests by S3 operation and status")
    func endpoints() async throws {
        try await ServerStorage.local.withServer { server in
            let health = try await HTTPClientRequestFactory.send(HTTPClientRequestFactory.plain(server.endpoint + "/_s3kv/health"))
            #expect(health.status == 200 && health.text == #"{"status":"ok"}"#)
            let ready = try await HTTPClientRequestFactory.send(HTTPClientRequestFactory.plain(server.endpoint + "/_s3kv/ready"))
            #expect(ready.status == 200 && ready.text == #"{"status":"ready"}"#)

            _ = try await SignedRequest(method: .PUT, path: "/tests/counted", body: [1]).send(to: server)
            _ = try await SignedRequest(method: .GET, path: "/tests/absent").send(to: server)
            _ = try await SignedRequest(method: .GET, path: "/tests", query: [("list-type", "2")]).send(to: server)
            let metrics = try await HTTPClientRequestFactory.send(HTTPClientRequestFactory.plain(server.endpoint + "/_s3kv/metrics"))
            #expect(metrics.status == 200 && metrics.headers.first(name: "content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
            for series in [
                #"s3kv_http_requests_total{method="PUT",route="PutObject",status="200"} 1"#,
                #"s3kv_http_requests_total{method="GET",route="GetObject",status="404"} 1"#,
                #"s3kv_http_requests_total{method="GET",route="ListObjectsV2",status="200"} 1"#,
                #"s3kv_http_requests_total{method="PUT",route="CreateBucket",status="200"} 1"#,
            ] {
                #expect(metrics.text.contains(series), "missing \(series)")
            }
            #expect(!metrics.text.contains("/tests"), "paths never become labels")
        }
    }

    @Test("a proxy's well-formed X-Request-ID is the request's id in x-amz-request-id; a malformed one is replaced")
    func requestIDs() async throws {
        try await ServerStorage.memory.withServer { server in
            let kept = try await SignedRequest(method: .GET, path: "/tests/x", headers: [("x-request-id", "edge-42")]).send(to: server)
            #expect(kept.headers.first(name: "x-amz-request-id") == "edge-42" && kept.headers.first(name: "x-request-id") == "edge-42")
            #expect(kept.xml?.value("RequestId") == "edge-42", "the error body names the same id")
            let replaced = try await SignedRequest(method: .GET, path: "/tests/x", headers: [("x-request-id", "bad id with spaces")]).send(to: server)
            let id = try #require(replaced.headers.first(name: "x-amz-request-id"))
            #expect(id != "bad id with spaces" && !id.isEmpty)
            let fresh = try await SignedRequest(method: .GET, path: "/tests/x").send(to: server)
            #expect(fresh.headers.first(name: "x-amz-request-id") != id, "each request gets its own id")
        }
    }
}
