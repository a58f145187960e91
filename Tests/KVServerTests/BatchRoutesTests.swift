import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KVServer
import KVStore
import NIOCore
import LocalStores
import ObjectStore
import Synchronization
import TestSupport
import Testing

/// `POST /kv` and `POST /kv?delete`.
@Suite struct BatchRoutesTests {
    static func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test("a batch writes text and base64 values with TTL and type; each item reports its receipt")
    func writes() async throws {
        try await withAPI { client in
            let body = #"{"items":[{"key":"a","value":"text"},{"key":"b/c","value_base64":"AAEC/w==","ttl":"1h","content_type":"image/png"}]}"#
            let response = try await client.execute(uri: "/kv", method: .post, body: Self.json(body))
            #expect(response.status == .ok)
            let result = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
            #expect(result?["written"] as? Int == 2 && result?["failed"] as? Int == 0)
            let items = try #require(result?["items"] as? [[String: Any]])
            #expect(items.map { $0["key"] as? String } == ["a", "b/c"])
            #expect(items[0]["status"] as? Int == 200 && items[0]["version"] as? Int == 1 && items[0]["size"] as? Int == 4)
            #expect(items[1]["expires_at"] is String)

            let binary = try await client.execute(uri: "/kv/b/c", method: .get)
            #expect(Array(binary.body.readableBytesView) == [0, 1, 2, 255])
            #expect(binary.headers[.contentType] == "image/png")
            #expect(try await client.execute(uri: "/kv/a", method: .get).text == "text")
        }
    }

    @Test("one invalid item rejects the batch with a 400 naming every bad item; nothing is written")
    func validation() async throws {
        try await withAPI(maxValueBytes: 8) { client in
            let body = """
                {"items":[{"key":"ok","value":"fine"},{"key":"","value":"x"},{"key":"t","value":"x","ttl":"soon"},
                {"key":"v"},{"key":"w","value":"x","value_base64":"eA=="},{"key":"big","value":"123456789"},
                {"key":"b64","value_base64":"***"},{"key":"ok","value":"again"},{"value":"keyless"}]}
                """
            let response = try await client.execute(uri: "/kv", method: .post, body: Self.json(body))
            try response.expectError(.badRequest, "invalid_batch")
            let error = try #require((try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])?["error"] as? [String: Any])
            let items = try #require(error["items"] as? [[String: Any]])
            #expect(items.map { $0["index"] as? Int } == [1, 2, 3, 4, 5, 6, 7, 8])
            #expect(
                items.map { $0["code"] as? String } == [
                    "key_empty", "invalid_ttl", "value_missing", "value_ambiguous", "value_too_large", "invalid_base64", "duplicate_key",
                    "key_missing",
                ]
            )
            try await client.execute(uri: "/kv/ok", method: .get).expectError(.notFound, "key_not_found")

            for bad in ["not json", #"{"items":"no"}"#, #"{"items":[]}"#, #"{"keys":["a"]}"#] {
                let refused = try await client.execute(uri: "/kv", method: .post, body: Self.json(bad))
                #expect(refused.status == .badRequest, "\(bad)")
            }
            let count = try await client.execute(uri: "/kv", method: .post, body: Self.json(#"{"items":[]}"#))
            try count.expectError(.badRequest, "invalid_batch_size")
            let path = try await client.execute(uri: "/kv", method: .post, body: Self.json(#"{"items":[{"key":1}]}"#))
            try path.expectError(.badRequest, "invalid_json")
            #expect(path.text.contains("items[0].key"))
        }
    }

    @Test("a backend failure on some items is a 207 reporting each outcome")
    func partialFailure() async throws {
        try await withAPI(objects: failingNames(["kv/b", "kv/d"])) { client in
            let body = #"{"items":[{"key":"a","value":"1"},{"key":"b","value":"2"},{"key":"c","value":"3"},{"key":"d","value":"4"}]}"#
            let response = try await client.execute(uri: "/kv", method: .post, body: Self.json(body))
            #expect(response.status.code == 207)
            let result = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
            #expect(result["written"] as? Int == 2 && result["failed"] as? Int == 2)
            let items = try #require(result["items"] as? [[String: Any]])
            #expect(items.map { $0["status"] as? Int } == [200, 503, 200, 503])
            #expect((items[1]["error"] as? [String: Any])?["code"] as? String == "backend_unavailable")
            #expect(try await client.execute(uri: "/kv/c", method: .get).text == "3")
            try await client.execute(uri: "/kv/b", method: .get).expectError(.serviceUnavailable, "backend_unavailable")
        }
    }

    @Test("POST /kv?delete deletes many keys; missing keys count as deleted; bad keys are a 400")
    func deletes() async throws {
        try await withAPI { client in
            for key in ["a", "b", "c"] {
                _ = try await client.execute(uri: "/kv/\(key)", method: .put, body: ByteBuffer(string: key))
            }
            let response = try await client.execute(uri: "/kv?delete", method: .post, body: Self.json(#"{"keys":["a","c","never"]}"#))
            #expect(response.status == .ok)
            #expect(response.text == #"{"deleted":["a","c","never"],"failed":[]}"#)
            try await client.execute(uri: "/kv/a", method: .get).expectError(.notFound, "key_not_found")
            #expect(try await client.execute(uri: "/kv/b", method: .get).text == "b")

            let bad = try await client.execute(uri: "/kv?delete", method: .post, body: Self.json(#"{"keys":["b","x//y"]}"#))
            try bad.expectError(.badRequest, "invalid_batch")
            #expect(bad.text.contains(#""index":1"#) && bad.text.contains("key_empty_segment"))
            #expect(try await client.execute(uri: "/kv/b", method: .get).text == "b")

            // A body with another batch's field is refused, not half carried out: a client that
            // meant to write must not have these keys deleted.
            let mixed = try await client.execute(
                uri: "/kv?delete", method: .post, body: Self.json(#"{"keys":["b"],"items":[{"key":"b","value":"new"}]}"#)
            )
            try mixed.expectError(.badRequest, "invalid_json")
            #expect(mixed.text.contains("items: not a field of this batch"), "\(mixed.text)")
            let misspelt = try await client.execute(uri: "/kv", method: .post, body: Self.json(#"{"items":[{"key":"b","value":"v"}],"itmes":[]}"#))
            try misspelt.expectError(.badRequest, "invalid_json")
            #expect(try await client.execute(uri: "/kv/b", method: .get).text == "b")
        }
    }

    @Test("a batch delete the backend fails reports each key with the API's snake_case code")
    func deleteFailureCodes() async throws {
        try await withAPI(objects: failingStore(ObjectStoreError(.unavailable, "connection refused"))) { client in
            let response = try await client.execute(
                uri: "/kv?delete", method: .post, headers: [.contentType: "application/json"], body: Self.json(#"{"keys":["a","b"]}"#)
            )
            #expect(response.status.code == 207)
            #expect(response.text.contains(#""code":"backend_unavailable""#), "\(response.text)")
        }
    }
}

/// A memory store whose operations on some object names fail, as if the backend were down for them.
func failingNames(_ names: Set<ObjectName>) -> TestObjectStore {
    let store = TestObjectStore(MemoryObjectStore())
    store.beforeEachOperation { operation in
        if let name = operation.name, names.contains(name), operation.kind != .delete {
            throw ObjectStoreError(.unavailable, "injected outage")
        }
    }
    return store
}
