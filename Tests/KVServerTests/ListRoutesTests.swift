import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KVServer
import NIOCore
import TestSupport
import Testing

/// `GET /kv`: the listing endpoint, its cursor and its errors.
@Suite struct ListRoutesTests {
    struct Page: Decodable {
        struct Item: Decodable {
            var key: String
            var size: Int
            var etag: String
            var last_modified: String
            var version: Int64
            var expires_at: String?
            var content_type: String
        }
        var items: [Item]
        var prefixes: [String]
        var next_cursor: String?
    }

    static func fill(_ client: some TestClientProtocol, _ keys: [String]) async throws {
        for key in keys {
            let response = try await client.execute(uri: "/kv/\(key)", method: .put, body: ByteBuffer(string: "v-\(key)"))
            #expect(response.status == .ok)
        }
    }

    @Test("pages through keys with a cursor; items carry size, ETag, last-modified, version and expiry")
    func paging() async throws {
        try await withAPI { client in
            try await Self.fill(client, ["a", "b", "c"])
            _ = try await client.execute(uri: "/kv/d?ttl=1h", method: .put, body: ByteBuffer(string: "ttl"))
            let first = try await client.execute(uri: "/kv?limit=2", method: .get)
            #expect(first.status == .ok)
            #expect(first.headers[.contentType] == "application/json; charset=utf-8")
            let page1 = try first.json(Page.self)
            #expect(page1.items.map(\.key) == ["a", "b"])
            #expect(page1.items[0].size == 3 && page1.items[0].version == 1 && page1.items[0].expires_at == nil)
            #expect(page1.items[0].etag.hasPrefix("\"") && page1.items[0].last_modified.hasSuffix("Z"))
            let cursor = try #require(page1.next_cursor)
            let page2 = try await client.execute(uri: "/kv?limit=2&cursor=\(cursor)", method: .get).json(Page.self)
            #expect(page2.items.map(\.key) == ["c", "d"])
            #expect(page2.items[1].expires_at != nil)
            if let last = page2.next_cursor {
                #expect(try await client.execute(uri: "/kv?limit=2&cursor=\(last)", method: .get).json(Page.self).items.isEmpty)
            }
        }
    }

    @Test("prefix, start, end and delimiter; query values are percent-decoded")
    func selection() async throws {
        try await withAPI { client in
            try await Self.fill(client, ["logs/2026/01", "logs/2026/02", "logs/2027/01", "logs/x", "other", "sp%20ace"])
            let folders = try await client.execute(uri: "/kv?prefix=logs%2F&delimiter=%2F", method: .get).json(Page.self)
            #expect(folders.items.map(\.key) == ["logs/x"])
            #expect(folders.prefixes == ["logs/2026/", "logs/2027/"])
            let range = try await client.execute(uri: "/kv?start=logs/2026/02&end=other", method: .get).json(Page.self)
            #expect(range.items.map(\.key) == ["logs/2026/02", "logs/2027/01", "logs/x"])
            let spaced = try await client.execute(uri: "/kv?prefix=sp%20", method: .get).json(Page.self)
            #expect(spaced.items.map(\.key) == ["sp ace"])
            // Bounds with no character before their last one (schemathesis found the first crashing).
            #expect(try await client.execute(uri: "/kv?start=%00", method: .get).json(Page.self).items.count == 6)
            #expect(try await client.execute(uri: "/kv?start=other%00", method: .get).json(Page.self).items.map(\.key) == ["sp ace"])
        }
    }

    @Test("a cursor that was altered or belongs to another query is a 400; so is a bad limit")
    func badInput() async throws {
        try await withAPI { client in
            try await Self.fill(client, ["a", "b", "c"])
            let page = try await client.execute(uri: "/kv?prefix=&limit=1", method: .get).json(Page.self)
            let cursor = try #require(page.next_cursor)
            var altered = Array(cursor)
            altered[altered.count / 2] = altered[altered.count / 2] == "A" ? "B" : "A"
            try await client.execute(uri: "/kv?limit=1&cursor=\(String(altered))", method: .get).expectError(.badRequest, "invalid_cursor")
            try await client.execute(uri: "/kv?cursor=not-a-cursor", method: .get).expectError(.badRequest, "invalid_cursor")
            let other = try await client.execute(uri: "/kv?prefix=b&cursor=\(cursor)", method: .get)
            try other.expectError(.badRequest, "invalid_cursor")
            #expect(other.text.contains("another prefix"))
            for limit in ["0", "1001", "ten", "-1"] {
                try await client.execute(uri: "/kv?limit=\(limit)", method: .get).expectError(.badRequest, "invalid_limit")
            }
            try await client.execute(uri: "/kv?delimiter=", method: .get).expectError(.badRequest, "invalid_delimiter")
            let long = String(repeating: "p", count: 513)
            try await client.execute(uri: "/kv?prefix=\(long)", method: .get).expectError(.badRequest, "invalid_prefix")
            let delete = try await client.execute(uri: "/kv", method: .delete)
            try delete.expectError(.methodNotAllowed, "method_not_allowed")
            #expect(delete.headers[.allow] == "GET, POST")
            #expect(try await client.execute(uri: "/kv", method: .options).headers[.allow] == "GET, POST")
        }
    }
}
