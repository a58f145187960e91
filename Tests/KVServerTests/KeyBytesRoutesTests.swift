import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KVServer
import KVStore
import NIOCore
import LocalStores
import ObjectStore
import PropertyBased
import TestSupport
import Testing

/// The HTTP API treats keys and listing parameters as bytes: each probe of the review, through
/// the router, and the path and query decoding that produces the bytes.
@Suite struct KeyBytesRoutesTests {
    struct ListBody: Decodable {
        struct Item: Decodable { var key: String }
        var items: [Item]
        var prefixes: [String]
    }

    @Test("PUT e%CC%81 then DELETE %C3%A9: a 404 for the other key, and the first one stays")
    func deleteTheOtherNormalForm() async throws {
        try await withAPI { client in
            #expect(try await client.execute(uri: "/kv/e%CC%81", method: .put, body: ByteBuffer(string: "nfd")).status == .ok)
            try await client.execute(uri: "/kv/%C3%A9", method: .delete).expectError(.notFound, "key_not_found")
            #expect(try await client.execute(uri: "/kv/e%CC%81", method: .get).text == "nfd")
        }
    }

    @Test("x%C3%A9 and xe%CC%81 hold their own values, from the cache and from a batch")
    func normalFormsAreTwoKeys() async throws {
        try await withAPI { client in
            try await client.execute(uri: "/kv/x%C3%A9", method: .put, body: ByteBuffer(string: "AAAA"))
            try await client.execute(uri: "/kv/xe%CC%81", method: .put, body: ByteBuffer(string: "BBBB"))
            #expect(try await client.execute(uri: "/kv/x%C3%A9", method: .get).text == "AAAA")
            #expect(try await client.execute(uri: "/kv/xe%CC%81", method: .get).text == "BBBB")
            // A batch writing both spellings writes two keys; the same bytes twice is a duplicate.
            let both = try await client.execute(
                uri: "/kv", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"items":[{"key":"b\u00e9","value":"1"},{"key":"be\u0301","value":"2"}]}"#)
            )
            #expect(both.status == .ok, "\(both.text)")
            #expect(try await client.execute(uri: "/kv/b%C3%A9", method: .get).text == "1")
            #expect(try await client.execute(uri: "/kv/be%CC%81", method: .get).text == "2")
            let twice = try await client.execute(
                uri: "/kv", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"items":[{"key":"b\u00e9","value":"1"},{"key":"b\u00e9","value":"2"}]}"#)
            )
            try twice.expectError(.badRequest, "invalid_batch")
            #expect(twice.text.contains("duplicate_key"))
        }
    }

    @Test("'//' and '..' next to a combining mark are refused, encoded or raw")
    func segmentRulesOnBytes() async throws {
        try await withAPI { client in
            for path in ["/kv/a//%CC%81b", "/kv/a//\u{301}b"] {
                try await client.execute(uri: path, method: .put, body: ByteBuffer(string: "x")).expectError(.badRequest, "key_empty_segment")
            }
            for path in ["/kv/a/../%CC%81b", "/kv/a/../\u{301}b"] {
                try await client.execute(uri: path, method: .put, body: ByteBuffer(string: "x")).expectError(.badRequest, "key_dot_segment")
            }
            // A raw '/' followed by a combining mark is a separator the router does not see; the
            // key is still found by its bytes.
            #expect(try await client.execute(uri: "/kv/a/\u{301}b", method: .put, body: ByteBuffer(string: "raw")).status == .ok)
            #expect(try await client.execute(uri: "/kv/a/%CC%81b", method: .get).text == "raw")
            try await client.execute(uri: "/kv/a/\u{301}b", method: .post).expectError(.methodNotAllowed, "method_not_allowed")
        }
    }

    @Test("percent-escapes decode exactly once, to bytes", arguments: [
        ("a%2Fb", "a/b"), ("a%2fb", "a/b"), ("%2541", "%41"), ("caf%C3%A9", "caf\u{E9}"), ("cafe%CC%81", "cafe\u{301}"),
        ("sp%20ace", "sp ace"), ("plus+sign", "plus+sign"),
    ])
    func percentDecoding(_ encoded: String, _ decoded: String) async throws {
        try await withAPI { client in
            let written = try await client.execute(uri: "/kv/\(encoded)", method: .put, body: ByteBuffer(string: "v"))
            #expect(written.status == .ok)
            let key = try JSONDecoder().decode([String: JSONValue].self, from: Data(written.body.readableBytesView))["key"]
            #expect(key?.string.map { Array($0.utf8) } == Array(decoded.utf8))
        }
    }

    @Test("decoding cannot smuggle a broken rule past validation", arguments: [
        ("%2Fa", "key_leading_slash"), ("a%2F%2Fb", "key_empty_segment"), ("a/%2E%2E/b", "key_dot_segment"),
        ("%00", "key_control_character"), ("%FF", "key_invalid_utf8"), ("%C3", "key_invalid_utf8"), ("%", "key_invalid_escape"),
        ("%4", "key_invalid_escape"), ("%zz", "key_invalid_escape"),
    ])
    func decodedRules(_ encoded: String, _ code: String) async throws {
        try await withAPI { client in
            try await client.execute(uri: "/kv/\(encoded)", method: .put, body: ByteBuffer(string: "v")).expectError(.badRequest, code)
        }
    }

    @Test("listing: ?start=zz lists each key once and ?prefix=%CC%81 finds the key that starts with the mark")
    func listingByBytes() async throws {
        try await withAPI { client in
            try await client.execute(uri: "/kv/%CC%81zz1", method: .put, body: ByteBuffer(string: "mark"))
            try await client.execute(uri: "/kv/zz1", method: .put, body: ByteBuffer(string: "plain"))
            let fromZZ = try await client.execute(uri: "/kv?start=zz", method: .get).json(ListBody.self)
            #expect(fromZZ.items.map { Array($0.key.utf8) } == [Array("zz1".utf8), Array("\u{301}zz1".utf8)])
            let marked = try await client.execute(uri: "/kv?prefix=%CC%81", method: .get).json(ListBody.self)
            #expect(marked.items.map { Array($0.key.utf8) } == [Array("\u{301}zz1".utf8)])
            // Parameters that do not decode to UTF-8 are refused, not taken literally.
            try await client.execute(uri: "/kv?prefix=%FF", method: .get).expectError(.badRequest, "invalid_prefix")
            try await client.execute(uri: "/kv?start=%C3", method: .get).expectError(.badRequest, "invalid_start")
            try await client.execute(uri: "/kv?end=%G1", method: .get).expectError(.badRequest, "invalid_end")
        }
    }

    @Test("property: keys written over HTTP list back exactly, in byte order, once")
    func listingProperty() async throws {
        await propertyCheck(count: 25, input: HostileText.names(2...10)) { names in
            try await withAPI { client in
                var written: [[UInt8]] = []
                for name in names {
                    let path = "/kv/" + name.utf8.map { String(format: "%%%02X", $0) }.joined()
                    if try await client.execute(uri: path, method: .put, body: ByteBuffer(string: "v")).status == .ok {
                        written.append(Array(name.utf8))
                    }
                }
                let listed = try await client.execute(uri: "/kv?limit=1000", method: .get).json(ListBody.self)
                #expect(listed.items.map { Array($0.key.utf8) } == written.sorted { $0.lexicographicallyPrecedes($1) })
            }
        }
    }

    @Test("a content_type with control characters is a 400, and nothing is written")
    func contentTypeControlCharacters() async throws {
        try await withAPI { client in
            // A header cannot carry control characters (HTTP parsers refuse them, and HTTPFields
            // replaces them), but JSON can: a batch item is where one would arrive.
            let batch = try await client.execute(
                uri: "/kv", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"items":[{"key":"k","value":"v","content_type":"a\u0001b"}]}"#)
            )
            try batch.expectError(.badRequest, "invalid_batch")
            #expect(batch.text.contains("invalid_content_type"))
            try await client.execute(uri: "/kv/k", method: .get).expectError(.notFound, "key_not_found")
        }
    }

    @Test("history reads while the backend is down are 503 with Retry-After")
    func historyWhileBackendDown() async throws {
        let objects = TestObjectStore(MemoryObjectStore())
        try await withAPI(objects: objects, store: .init(versionHistory: 3)) { client in
            try await client.execute(uri: "/kv/k", method: .put, body: ByteBuffer(string: "1"))
            try await client.execute(uri: "/kv/k", method: .put, body: ByteBuffer(string: "2"))
            objects.beforeEachOperation { operation in
                if operation.kind == .list || operation.name?.hasPrefix("versions/") == true {
                    throw ObjectStoreError(.unavailable, "connection refused")
                }
            }
            for uri in ["/kv/k?versions", "/kv/k?version=1"] {
                let response = try await client.execute(uri: uri, method: .get)
                try response.expectError(.serviceUnavailable, "backend_unavailable")
                #expect(response.headers[.retryAfter] == "1")
            }
        }
    }
}

/// Enough of JSON to read one string field.
enum JSONValue: Decodable {
    case string(String)
    case other

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self = (try? container.decode(String.self)).map(JSONValue.string) ?? .other
    }

    var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
