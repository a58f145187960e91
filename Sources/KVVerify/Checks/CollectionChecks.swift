import Foundation
import NIOHTTP1
import WireFormat

/// Operations on many keys: listing in pages with cursors and a delimiter, batch writes and
/// batch deletes.
enum CollectionChecks {
    static let all: [Check] = [listing, batches]

    static let listedKeys = 23
    static let pageSize = 5

    static let listing = Check("listing", "\(listedKeys) keys listed \(pageSize) per page by cursor: each once, in byte order; delimiters roll up folders") { context in
        let folder = context.key("list/")
        let keys = (0..<listedKeys).map { folder + String(format: "k%02d", $0) } + [folder + "sub/a", folder + "sub/b"]
        try await forEach(keys, concurrency: 8) { key in
            try await context.client.send(.PUT, KVClient.path(key), body: Array(key.utf8)).expect(200)
        }
        let all = try await list(context, prefix: folder, limit: pageSize)
        let expected = keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        try require(all.keys == expected, "pages of \(pageSize) listed \(all.keys.count) keys (\(Set(all.keys).count) distinct), not the \(expected.count) written in byte order")
        try require(all.pages >= expected.count / pageSize, "\(expected.count) keys came in \(all.pages) pages of at most \(pageSize)")

        let rolled = try await list(context, prefix: folder, limit: 1000, delimiter: "/")
        try require(rolled.prefixes == [folder + "sub/"], "with delimiter / the folders are \(rolled.prefixes), not [\(folder)sub/]")
        try require(rolled.keys.count == listedKeys, "with delimiter / \(rolled.keys.count) keys are listed, not \(listedKeys)")

        let tampered = try await context.client.send(.GET, "/kv?prefix=\(encode(folder))&cursor=AAAA-not-a-cursor")
        try tampered.expectError(400, "invalid_cursor", "a listing with a made-up cursor")
        return "\(all.pages) pages"
    }

    static let batches = Check("batches", "a batch writes text, base64 and TTL items; a bad item refuses the whole batch; a batch delete removes keys") { context in
        let text = context.key("batch/text")
        let binary = context.key("batch/binary")
        let expiring = context.key("batch/expiring")
        let bytes: [UInt8] = [0, 1, 2, 254, 255, 10, 13]
        let batch: [String: Any] = ["items": [
            ["key": text, "value": "batched text", "content_type": "text/plain"],
            ["key": binary, "value_base64": Data(bytes).base64EncodedString()],
            ["key": expiring, "value": "soon gone", "ttl": "1h"],
        ]]
        let written = try await context.client.send(.POST, "/kv", headers: [("content-type", "application/json")], body: json(batch)).expect(200, "a batch of 3")
        try require(jsonInteger(written.json?["written"]) == 3 && jsonInteger(written.json?["failed"]) == 0,
                    "the batch answered written \(written.json?["written"] ?? "none"), failed \(written.json?["failed"] ?? "none")")
        let readText = try await context.client.send(.GET, KVClient.path(text)).expect(200)
        try require(readText.body == Array("batched text".utf8) && readText.header("content-type") == "text/plain", "the batch's text item reads back differently")
        let readBinary = try await context.client.send(.GET, KVClient.path(binary)).expect(200)
        try require(readBinary.body == bytes, "the batch's base64 item reads back as other bytes")
        let readExpiring = try await context.client.send(.GET, KVClient.path(expiring)).expect(200)
        try require(readExpiring.header("x-kv-expires-at") != nil, "the batch's TTL item has no expiry")

        let untouched = context.key("batch/untouched")
        let refused = try await context.client.send(.POST, "/kv", headers: [("content-type", "application/json")], body: json(["items": [
            ["key": untouched, "value": "never written"], ["key": context.key("batch//bad"), "value": "x"],
        ]]))
        try refused.expectError(400, "invalid_batch", "a batch with a bad key")
        try await context.client.send(.GET, KVClient.path(untouched)).expectError(404, "key_not_found", "the valid item of a refused batch")

        let deleted = try await context.client.send(.POST, "/kv?delete", headers: [("content-type", "application/json")], body: json(["keys": [text, binary, expiring]]))
            .expect(200, "a batch delete of 3")
        try require((deleted.json?["deleted"] as? [String])?.count == 3, "the batch delete answered \(String(decoding: deleted.body, as: UTF8.self))")
        for key in [text, binary, expiring] {
            try await context.client.send(.GET, KVClient.path(key)).expectError(404, "key_not_found", "a key after the batch delete")
        }
        return nil
    }

    /// Every key under `prefix` (and the folders, with a delimiter), following cursors.
    static func list(_ context: CheckContext, prefix: String, limit: Int, delimiter: String? = nil) async throws -> (keys: [String], prefixes: [String], pages: Int) {
        var keys: [String] = []
        var prefixes: [String] = []
        var cursor: String?
        for page in 1...10_000 {
            var query = "prefix=\(encode(prefix))&limit=\(limit)"
            if let delimiter { query += "&delimiter=\(encode(delimiter))" }
            if let cursor { query += "&cursor=\(encode(cursor))" }
            let answer = try await context.client.send(.GET, "/kv?" + query).expect(200, "listing page \(page)")
            guard let items = answer.json?["items"] as? [[String: Any]] else { throw CheckFailure("\(answer.summary) without items") }
            keys += items.compactMap { $0["key"] as? String }
            prefixes += answer.json?["prefixes"] as? [String] ?? []
            cursor = answer.json?["next_cursor"] as? String
            if cursor == nil { return (keys, prefixes, page) }
        }
        throw CheckFailure("the listing of \(prefix) did not end within 10,000 pages")
    }

    static func encode(_ text: String) -> String { PercentEncoding.encode(text.utf8) }

    static func json(_ object: [String: Any]) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    /// Runs `body` on every element, at most `concurrency` at a time.
    static func forEach<T: Sendable>(_ elements: [T], concurrency: Int, _ body: @escaping @Sendable (T) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, element) in elements.enumerated() {
                if index >= concurrency { try await group.next() }
                group.addTask { try await body(element) }
            }
            try await group.waitForAll()
        }
    }
}
