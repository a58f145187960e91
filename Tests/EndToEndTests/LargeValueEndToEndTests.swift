import Crypto
import Foundation
import NIOHTTP1
import ObjectStore
import S3
import TestSupport
import Testing
import S3Protocol

/// Values far larger than the cache keeps, through the binary on every backend: S3 streams
/// them in parts (multipart above 16 MiB), the embedded store to files beside its database (both
/// with their default limit, 5 TiB); the memory store takes them whole, up to a raised
/// KV_MAX_VALUE_BYTES.
@Suite(.serialized) struct LargeValueEndToEndTests {
    static var backends: [String] { S3Servers.enabled ? ["memory", "local", "s3"] : ["memory", "local"] }
    static let size = 64 << 20

    /// A server on `backend` with history on; on S3 a fresh bucket, returned for inspection.
    static func server(_ backend: String, directory: String) throws -> (ServerProcess, bucket: String?) {
        var environment = ["KV_VERSION_HISTORY": "3", "KV_SWEEP_INTERVAL": "1h"]
        switch backend {
        case "s3":
            let bucket = "large-\(UUID().uuidString.lowercased())"
            environment.merge([
                "S3_ENDPOINT": try #require(S3Servers.largeEndpoint), "S3_BUCKET": bucket, "S3_ACCESS_KEY": S3Servers.accessKey,
                "S3_SECRET_KEY": S3Servers.secretKey, "S3_CREATE_BUCKET": "true",
            ]) { $1 }
            return (try ServerProcess(environment: environment), bucket)
        case "local":
            environment.merge(["KV_STORAGE": "local", "KV_DATA_DIR": directory]) { $1 }
        default:
            environment.merge(["KV_STORAGE": "memory", "KV_MAX_VALUE_BYTES": "80MiB"]) { $1 }
        }
        return (try ServerProcess(environment: environment), nil)
    }

    /// `count` bytes of a cheap pseudo-random sequence (no two 8-byte words alike).
    static func value(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed | 1
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            for offset in stride(from: 0, to: count, by: 8) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                withUnsafeBytes(of: state.littleEndian) { word in
                    for index in 0..<min(8, count - offset) { buffer[offset + index] = word[index] }
                }
            }
            initialized = count
        }
    }

    static func digest(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }

    @Test("a 64 MiB value round-trips with its SHA-256; Range, HEAD, CAS and its archived version work as for small ones", arguments: backends)
    func roundTrip(_ backend: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("s3kv-large-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (server, bucket) = try Self.server(backend, directory: directory)
        let url = "\(server.baseURL)/kv/big/value"
        let first = Self.value(Self.size, seed: 1)
        let second = Self.value(Self.size, seed: 2)

        let put = try await HTTP.request(url, method: .PUT, headers: [("Content-Type", "application/octet-stream")], body: first)
        try #require(put.status == 200, "\(put.status) \(put.text)")
        #expect(put.text.contains(#""size":\#(Self.size)"#))
        let etag = try #require(put.header("etag"))
        if let bucket, S3Servers.largeRequestLog != nil {
            // 64 MiB in parts of at least 8 MiB: a multipart upload, not one PUT.
            let requests = try S3Servers.requests(to: bucket, log: S3Servers.largeRequestLog)
            #expect(requests.contains { $0.hasPrefix("POST") && $0.contains("?uploads") }, "\(requests)")
            #expect((8...9).contains(requests.filter { $0.hasPrefix("PUT") && $0.contains("partNumber=") }.count), "\(requests)")
        }

        let read = try await HTTP.request(url, method: .GET)
        #expect(read.status == 200)
        #expect(read.header("content-length") == String(Self.size))
        #expect(read.header("accept-ranges") == "bytes")
        #expect(Self.digest(read.body) == Self.digest(first))

        // Ranges: an inner one, an open-ended one across the multipart boundary, a suffix, and
        // one past the end.
        let inner = try await HTTP.request(url, method: .GET, headers: [("Range", "bytes=1000-1999")])
        #expect(inner.status == 206)
        #expect(inner.header("content-range") == "bytes 1000-1999/\(Self.size)")
        #expect(inner.body == Array(first[1000...1999]))
        let tail = try await HTTP.request(url, method: .GET, headers: [("Range", "bytes=\(Self.size - (20 << 20))-")])
        #expect(tail.status == 206)
        #expect(tail.body == Array(first[(Self.size - (20 << 20))...]))
        let suffix = try await HTTP.request(url, method: .GET, headers: [("Range", "bytes=-10")])
        #expect(suffix.status == 206 && suffix.body == Array(first.suffix(10)))
        let past = try await HTTP.request(url, method: .GET, headers: [("Range", "bytes=\(Self.size)-")])
        #expect(past.status == 416)
        #expect(past.header("content-range") == "bytes */\(Self.size)")
        #expect(past.text.contains(#""code":"range_not_satisfiable""#))

        let head = try await HTTP.request(url, method: .HEAD)
        #expect(head.status == 200 && head.header("content-length") == String(Self.size) && head.header("etag") == etag)

        // Compare-and-swap on the large value.
        let stale = try await HTTP.request(url, method: .PUT, headers: [("If-Match", #""not-the-tag""#)], body: second)
        #expect(stale.status == 412)
        let create = try await HTTP.request(url, method: .PUT, headers: [("If-None-Match", "*")], body: second)
        #expect(create.status == 412)
        let swap = try await HTTP.request(url, method: .PUT, headers: [("If-Match", etag)], body: second)
        try #require(swap.status == 200, "\(swap.status) \(swap.text)")
        #expect(swap.header("x-kv-version") == "2")
        #expect(Self.digest(try await HTTP.request(url, method: .GET).body) == Self.digest(second))

        // The replaced version was archived whole.
        let archived = try await HTTP.request("\(url)?version=1", method: .GET)
        #expect(archived.status == 200)
        #expect(Self.digest(archived.body) == Self.digest(first))
        #expect(try await HTTP.request(url, method: .DELETE).status == 204)
        #expect(try await HTTP.request(url, method: .GET).status == 404)
        #expect(server.stop(signal: SIGTERM) == 0)
    }

    @Test("an upload cut off mid-way leaves no value and, on S3, no incomplete multipart upload", arguments: backends)
    func cutOffUpload(_ backend: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("s3kv-large-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (server, bucket) = try Self.server(backend, directory: directory)
        do {
            // 40 of the 64 MiB declared: past the multipart threshold, so parts are in S3.
            let connection = try RawConnection(port: server.port)
            connection.send("PUT /kv/cut HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(Self.size)\r\n\r\n")
            connection.send(bytes: Self.value(40 << 20, seed: 3))
            try await Task.sleep(for: .milliseconds(500))
        }
        // The server notices the close, aborts, and answers nothing; then nothing is there.
        var gone = false
        for _ in 0..<50 where !gone {
            try await Task.sleep(for: .milliseconds(200))
            gone = try await HTTP.request("\(server.baseURL)/kv/cut", method: .GET).status == 404
        }
        #expect(gone)
        if backend == "local" {
            // The partial file is removed as the upload fails.
            var files = ["not yet listed"]
            for _ in 0..<50 where !files.isEmpty {
                files = try Self.blobFiles(directory)
                if !files.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(files.isEmpty, "files left behind: \(files)")
        }
        if let bucket {
            let configuration = try S3Configuration(
                endpoint: try #require(S3Servers.largeEndpoint), bucket: bucket,
                credentials: AWSCredentials(accessKeyID: S3Servers.accessKey, secretAccessKey: S3Servers.secretKey)
            )
            let store = S3ObjectStore(client: S3Client(configuration: configuration))
            var open: [String] = ["not yet listed"]
            for _ in 0..<50 where !open.isEmpty {
                open = try await store.incompleteUploads().map(\.description)
                if !open.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(open.isEmpty, "incomplete multipart uploads left behind: \(open)")
            try await store.client.shutdown()
        }
        #expect(try await HTTP.request("\(server.baseURL)/kv", method: .GET).text.contains(#""items":[]"#))
        #expect(server.stop(signal: SIGTERM) == 0)
    }

    static func blobFiles(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory + "/blobs")
    }

    @Test("on the embedded store, SIGKILL mid-upload leaves no value, and the restart removes the partial file")
    func killedMidUpload() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("s3kv-large-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let kept = Self.value(8 << 20, seed: 4)
        do {
            let (server, _) = try Self.server("local", directory: directory)
            let put = try await HTTP.request("\(server.baseURL)/kv/kept", method: .PUT, body: kept)
            try #require(put.status == 200, "\(put.status) \(put.text)")
            let connection = try RawConnection(port: server.port)
            connection.send("PUT /kv/cut HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(Self.size)\r\n\r\n")
            connection.send(bytes: Self.value(24 << 20, seed: 5))
            // The upload is under way once its partial file has grown past the first write.
            var growing = false
            for _ in 0..<100 where !growing {
                try await Task.sleep(for: .milliseconds(100))
                growing = try Self.blobFiles(directory).contains { name in
                    guard name.hasSuffix(".partial") else { return false }
                    let size = try? FileManager.default.attributesOfItem(atPath: directory + "/blobs/" + name)[.size] as? Int
                    return (size ?? 0) > 4 << 20
                }
            }
            let files = try Self.blobFiles(directory)
            try #require(growing, "no upload in progress: \(files)")
            _ = server.stop(signal: SIGKILL)
        }
        let (server, _) = try Self.server("local", directory: directory)
        let files = try Self.blobFiles(directory)
        #expect(files.count == 1, "\(files)")
        #expect(try await HTTP.request("\(server.baseURL)/kv/cut", method: .GET).status == 404)
        let read = try await HTTP.request("\(server.baseURL)/kv/kept", method: .GET)
        #expect(read.status == 200 && Self.digest(read.body) == Self.digest(kept))
        #expect(server.stop(signal: SIGTERM) == 0)
    }
}
