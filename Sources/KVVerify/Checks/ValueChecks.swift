import Crypto
import NIOHTTP1

/// Single values: write and read back, overwrite, delete, bytes of every kind, the empty value,
/// content types and a value over the cache limit (streamed, ranged).
enum ValueChecks {
    static let all: [Check] = [putGet, cachedReads, overwrite, delete, binaryValues, emptyValue, contentTypes, largeValue]

    static let putGet = Check("put_get", "a PUT answers the key, size, ETag and version; GET and HEAD return them") { context in
        let key = context.key("put-get")
        let value = Array("hello from s3kv verify".utf8)
        let put = try await context.client.send(.PUT, KVClient.path(key), headers: [("content-type", "text/plain")], body: value).expect(200)
        try require(put.string("key") == key, "PUT answered the key \(put.string("key") ?? "none"), not \(key)")
        try require(put.number("size") == value.count, "PUT answered size \(put.number("size").map(String.init) ?? "none"), not \(value.count)")
        let etag = try etagOf(put)
        let version = try versionOf(put)
        let get = try await context.client.send(.GET, KVClient.path(key)).expect(200)
        try require(get.body == value, "GET returned \(get.body.count) bytes that differ from the \(value.count) written")
        try require(get.header("etag") == etag, "GET's ETag \(get.header("etag") ?? "none") is not the PUT's \(etag)")
        try require(get.header("x-kv-version") == String(version), "GET's X-KV-Version \(get.header("x-kv-version") ?? "none") is not \(version)")
        try require(get.header("last-modified") != nil, "GET carries no Last-Modified")
        let head = try await context.client.send(.HEAD, KVClient.path(key)).expect(200)
        try require(head.header("content-length") == String(value.count), "HEAD's Content-Length is \(head.header("content-length") ?? "none"), not \(value.count)")
        try require(head.body.isEmpty, "HEAD answered a body")
        let revalidated = try await context.client.send(.GET, KVClient.path(key), headers: [("if-none-match", etag)])
        try revalidated.expect(304, "a GET with If-None-Match on the current ETag")
        return nil
    }

    static let cachedReads = Check("cached_reads", "reads that may be served from a cache return the value written, its ETag and version, each time") { context in
        let key = context.key("cached")
        let value = Array("read me often".utf8)
        let put = try await context.client.send(.PUT, KVClient.path(key), body: value).expect(200)
        let (etag, version) = try (etagOf(put), versionOf(put))
        // A new key: no instance can hold an older value of it, so even behind a balancer every
        // read, cached or not, must return this write.
        for round in 1...5 {
            let get = try await context.client.send(.GET, KVClient.path(key), cached: true).expect(200, "cached read \(round)")
            try require(get.body == value && get.header("etag") == etag && get.header("x-kv-version") == String(version),
                        "cached read \(round) returned another value, ETag or version")
        }
        let revalidated = try await context.client.send(.GET, KVClient.path(key), headers: [("if-none-match", etag)], cached: true)
        try revalidated.expect(304, "a cached read with If-None-Match on the current ETag")
        return nil
    }

    static let overwrite = Check("overwrite", "each write of a key is the next version with an ETag of its own, even for the same bytes") { context in
        let key = context.key("overwrite")
        let first = try await context.client.send(.PUT, KVClient.path(key), body: Array("first".utf8)).expect(200)
        let second = try await context.client.send(.PUT, KVClient.path(key), body: Array("second".utf8)).expect(200)
        let again = try await context.client.send(.PUT, KVClient.path(key), body: Array("second".utf8)).expect(200)
        let versions = try [versionOf(first), versionOf(second), versionOf(again)]
        try require(versions[1] == versions[0] + 1 && versions[2] == versions[1] + 1, "three writes got versions \(versions), not consecutive ones")
        let (secondTag, lastTag) = try (etagOf(second), etagOf(again))
        try require(lastTag != secondTag, "two writes of the same bytes share the ETag \(lastTag)")
        let get = try await context.client.send(.GET, KVClient.path(key)).expect(200)
        try require(get.body == Array("second".utf8), "GET after the overwrite returned \(String(decoding: get.body, as: UTF8.self).debugDescription)")
        try require(get.header("etag") == lastTag, "GET serves the ETag \(get.header("etag") ?? "none"), not the last write's \(lastTag)")
        return nil
    }

    static let delete = Check("delete", "DELETE answers 204, then the key is 404 key_not_found for GET and DELETE") { context in
        let key = context.key("delete")
        try await context.client.send(.PUT, KVClient.path(key), body: Array("doomed".utf8)).expect(200)
        try await context.client.send(.DELETE, KVClient.path(key)).expect(204)
        try await context.client.send(.GET, KVClient.path(key)).expectError(404, "key_not_found", "GET after DELETE")
        try await context.client.send(.HEAD, KVClient.path(key)).expect(404, "HEAD after DELETE")
        try await context.client.send(.DELETE, KVClient.path(key)).expectError(404, "key_not_found", "a second DELETE")
        return nil
    }

    static let binaryValues = Check("binary_values", "every byte value round-trips, and keys are bytes: NFC and NFD é are two keys") { context in
        let value = (0...255).map { UInt8($0) } + randomBytes(4096)
        let key = context.key("binary/ä\u{1F600}")
        try await context.client.send(.PUT, KVClient.path(key), body: value).expect(200)
        let get = try await context.client.send(.GET, KVClient.path(key)).expect(200)
        try require(get.body == value, "\(value.count) bytes of every value came back as \(get.body.count) different bytes")
        // The same text in two Unicode normal forms: two byte strings, so two keys.
        let composed = context.key("binary/caf\u{E9}")
        let decomposed = context.key("binary/cafe\u{301}")
        try await context.client.send(.PUT, KVClient.path(composed), body: Array("nfc".utf8)).expect(200)
        try await context.client.send(.PUT, KVClient.path(decomposed), body: Array("nfd".utf8)).expect(200)
        let nfc = try await context.client.send(.GET, KVClient.path(composed)).expect(200)
        let nfd = try await context.client.send(.GET, KVClient.path(decomposed)).expect(200)
        try require(nfc.body == Array("nfc".utf8) && nfd.body == Array("nfd".utf8), "the NFC and NFD keys share a value: keys are compared as text, not bytes")
        return nil
    }

    static let emptyValue = Check("empty_value", "an empty value is stored and read back as 0 bytes") { context in
        let key = context.key("empty")
        let put = try await context.client.send(.PUT, KVClient.path(key), body: []).expect(200)
        try require(put.number("size") == 0, "PUT of an empty body answered size \(put.number("size").map(String.init) ?? "none")")
        let get = try await context.client.send(.GET, KVClient.path(key)).expect(200)
        try require(get.body.isEmpty && get.header("content-length") == "0", "GET of the empty value returned \(get.body.count) bytes, Content-Length \(get.header("content-length") ?? "none")")
        return nil
    }

    static let contentTypes = Check("content_types", "a value is served with its Content-Type; none, or the form type, is application/octet-stream") { context in
        let cases: [(String, String?, String)] = [
            ("json", "application/json", "application/json"),
            ("image", "image/png", "image/png"),
            ("untyped", nil, "application/octet-stream"),
            ("form", "application/x-www-form-urlencoded", "application/octet-stream"),
        ]
        for (name, sent, served) in cases {
            let key = context.key("types/\(name)")
            try await context.client.send(.PUT, KVClient.path(key), headers: sent.map { [("content-type", $0)] } ?? [], body: Array("{}".utf8)).expect(200)
            let get = try await context.client.send(.GET, KVClient.path(key)).expect(200)
            try require(get.header("content-type") == served, "a value stored with \(sent ?? "no type") is served as \(get.header("content-type") ?? "no type"), not \(served)")
        }
        return nil
    }

    static let largeValue = Check("large_value", "a value over the cache limit round-trips with its SHA-256; Range answers 206 and 416") { context in
        let size = context.largeValueBytes
        let value = randomBytes(size)
        let key = context.key("large")
        let put = try await context.client.send(.PUT, KVClient.path(key), headers: [("content-type", "application/octet-stream")], body: value).expect(200, "PUT of \(size) bytes")
        try require(put.number("size") == size, "PUT of \(size) bytes answered size \(put.number("size").map(String.init) ?? "none")")
        let get = try await context.client.send(.GET, KVClient.path(key)).expect(200)
        try require(SHA256.hash(data: get.body) == SHA256.hash(data: value), "GET of the \(size)-byte value returned \(get.body.count) bytes with another SHA-256")
        let ranged = try await context.client.send(.GET, KVClient.path(key), headers: [("range", "bytes=1000-1999")]).expect(206, "GET with Range: bytes=1000-1999")
        try require(ranged.body == Array(value[1000...1999]), "the ranged GET returned \(ranged.body.count) bytes that are not bytes 1000-1999")
        try require(ranged.header("content-range") == "bytes 1000-1999/\(size)", "the ranged GET's Content-Range is \(ranged.header("content-range") ?? "none")")
        let past = try await context.client.send(.GET, KVClient.path(key), headers: [("range", "bytes=\(size)-")])
        try past.expectError(416, "range_not_satisfiable", "a Range past the end")
        try require(past.header("content-range") == "bytes */\(size)", "the 416 carries Content-Range \(past.header("content-range") ?? "none"), not bytes */\(size)")
        return "\(size) bytes"
    }

    /// `count` random bytes, drawn eight at a time.
    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < count {
                var word = generator.next()
                let n = min(8, count - offset)
                withUnsafeBytes(of: &word) { buffer.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: n) }
                offset += n
            }
        }
        return bytes
    }

    /// The ETag of a write's answer (its header and its JSON field, which must agree) or, with
    /// `header`, of a read's (the header alone).
    static func etagOf(_ response: KVResponse, header: Bool = false) throws(CheckFailure) -> String {
        if header {
            guard let etag = response.header("etag"), !etag.isEmpty else { throw CheckFailure("\(response.summary) without an ETag") }
            return etag
        }
        guard let etag = response.string("etag"), !etag.isEmpty, response.header("etag") == etag else {
            throw CheckFailure("\(response.summary) without matching ETag header and etag field")
        }
        return etag
    }

    static func versionOf(_ response: KVResponse) throws(CheckFailure) -> Int {
        guard let version = response.number("version"), version >= 1, response.header("x-kv-version") == String(version) else {
            throw CheckFailure("\(response.summary) without matching X-KV-Version header and version field")
        }
        return version
    }
}
