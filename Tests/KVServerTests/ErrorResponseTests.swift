import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KVServer
import KVStore
import NIOCore
import LocalStores
import ObjectStore
import ServerSupport
import Testing
import TestSupport

@Suite struct ErrorResponseTests {
    @Test("each broken key rule is a 400 naming the rule", arguments: [
        ("/kv/a//b", "key_empty_segment"), ("/kv/a/", "key_trailing_slash"), ("/kv/%2Fa", "key_leading_slash"),
        ("/kv/a/./b", "key_dot_segment"), ("/kv/a/..", "key_dot_segment"), ("/kv/a%00b", "key_control_character"),
        ("/kv/%FF", "key_invalid_utf8"), ("/kv/bad%zz", "key_invalid_escape"), ("/kv/", "key_empty"),
        ("/kv/" + String(repeating: "k", count: 513), "key_too_long"),
    ])
    func badKeys(_ path: String, code: String) async throws {
        try await withAPI { client in
            for method in [HTTPRequest.Method.get, .put, .delete] {
                try await client.execute(uri: path, method: method, body: ByteBuffer(string: "x")).expectError(.badRequest, code)
            }
        }
    }

    @Test("a wrong method is 405 with Allow")
    func methodNotAllowed() async throws {
        try await withAPI { client in
            for method in [HTTPRequest.Method.post, .patch, .options] {
                let response = try await client.execute(uri: "/kv/k", method: method)
                try response.expectError(.methodNotAllowed, "method_not_allowed")
                #expect(response.headers[.allow] == "GET, HEAD, PUT, DELETE")
            }
            let health = try await client.execute(uri: "/health", method: .post)
            try health.expectError(.methodNotAllowed, "method_not_allowed")
            #expect(health.headers[.allow] == "GET, HEAD")
        }
    }

    @Test("unknown routes are a JSON 404", arguments: ["/", "/nope", "/kvs", "/healthz", "/kvx/a"])
    func unknownRoute(_ path: String) async throws {
        try await withAPI { client in
            try await client.execute(uri: path, method: .get).expectError(.notFound, "route_not_found")
        }
    }

    @Test("a body over the limit is 413, by declared length or while streaming")
    func tooLarge() async throws {
        try await withAPI(maxValueBytes: 10) { client in
            let big = ByteBuffer(repeating: 0x61, count: 11)
            try await client.execute(uri: "/kv/big", method: .put, headers: [.contentLength: "11"], body: big)
                .expectError(.contentTooLarge, "value_too_large")
            try await client.execute(uri: "/kv/big", method: .put, body: big).expectError(.contentTooLarge, "value_too_large")
            try await client.execute(uri: "/kv/big", method: .put, headers: [.contentLength: "99999999999"])
                .expectError(.contentTooLarge, "value_too_large")
            try await client.execute(uri: "/kv/big", method: .get).expectError(.notFound, "key_not_found")
            let fits = ByteBuffer(repeating: 0x61, count: 10)
            #expect(try await client.execute(uri: "/kv/big", method: .put, body: fits).status == .ok)
        }
    }

    @Test("request ids: a well-formed X-Request-ID is echoed, others are replaced")
    func requestIDs() async throws {
        try await withAPI { client in
            let echoed = try await client.execute(uri: "/health", method: .get, headers: [.requestID: "client-id-1"])
            #expect(echoed.headers[.requestID] == "client-id-1")
            let replaced = try await client.execute(uri: "/kv/missing", method: .get, headers: [.requestID: "bad id with spaces"])
            #expect(replaced.headers[.requestID] == "req-1")
            try replaced.expectError(.notFound, "key_not_found")
            let tooLong = String(repeating: "a", count: RequestID.maximumLength + 1)
            #expect(try await client.execute(uri: "/health", method: .get, headers: [.requestID: tooLong]).headers[.requestID] == "req-2")
        }
    }

    @Test("a backend outage is 503 with Retry-After, never a success")
    func backendUnavailable() async throws {
        try await withAPI(objects: failingStore(ObjectStoreError(.unavailable, "connection refused"))) { client in
            let put = try await client.execute(uri: "/kv/k", method: .put, body: ByteBuffer(string: "x"))
            try put.expectError(.serviceUnavailable, "backend_unavailable")
            #expect(put.headers[.retryAfter] == "1")
            try await client.execute(uri: "/kv/k", method: .get).expectError(.serviceUnavailable, "backend_unavailable")
        }
        try await withAPI(objects: failingStore(ObjectStoreError(.accessDenied, "AccessDenied"))) { client in
            try await client.execute(uri: "/kv/k", method: .put, body: ByteBuffer(string: "x")).expectError(.badGateway, "backend_failure")
        }
    }

    @Test("a full disk is 507 insufficient_storage for writes")
    func insufficientStorage() async throws {
        try await withAPI(objects: failingStore(ObjectStoreError(.insufficientStorage, "SQLITE_FULL"))) { client in
            let put = try await client.execute(uri: "/kv/k", method: .put, body: ByteBuffer(string: "x"))
            try put.expectError(.init(code: 507), "insufficient_storage")
            #expect(!put.text.contains("SQLITE_FULL"))
        }
    }

    @Test("GET /health answers without touching storage")
    func health() async throws {
        try await withAPI(objects: failingStore(ObjectStoreError(.unavailable, "down"))) { client in
            let response = try await client.execute(uri: "/health", method: .get)
            #expect(response.status == .ok)
            #expect(response.text == #"{"status":"ok"}"#)
        }
    }
}

/// A backend that fails every operation with one error.
func failingStore(_ error: ObjectStoreError) -> TestObjectStore {
    let store = TestObjectStore(MemoryObjectStore())
    store.beforeEach { _ in throw error }
    return store
}
