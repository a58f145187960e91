import Foundation
import NIOHTTP1
import TestSupport
import Testing

/// Two s3kv processes on one store, the embedded one (one data directory) and S3 (one bucket):
/// the write-identity cases the review confirmed with two instances, over real HTTP.
@Suite(.serialized) struct IdentityAcrossInstancesTests {
    static var backends: [String] { S3Servers.enabled ? ["local", "s3"] : ["local"] }

    /// Two servers sharing one backend, with a one-second cache staleness bound.
    static func pair(_ backend: String, directory: String) throws -> (ServerProcess, ServerProcess) {
        // No stale-while-revalidate window: the bound under test is the staleness bound alone.
        var environment = [
            "KV_CACHE_MAX_STALENESS": "1s", "KV_CACHE_STALE_WHILE_REVALIDATE": "0", "KV_VERSION_HISTORY": "5", "KV_SWEEP_INTERVAL": "1h",
        ]
        if backend == "local" {
            environment.merge(["KV_STORAGE": "local", "KV_DATA_DIR": directory]) { $1 }
        } else {
            environment.merge([
                "S3_ENDPOINT": try #require(S3Servers.endpoint), "S3_BUCKET": "pair-\(UUID().uuidString.lowercased())",
                "S3_ACCESS_KEY": S3Servers.accessKey, "S3_SECRET_KEY": S3Servers.secretKey, "S3_CREATE_BUCKET": "true",
            ]) { $1 }
        }
        return (try ServerProcess(environment: environment), try ServerProcess(environment: environment))
    }

    @Test("same-bytes rewrites on another instance: no stale expired value, no reused version, no blind CAS", arguments: backends)
    func sameBytesAcrossInstances(_ backend: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("s3kv-pair-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (a, b) = try Self.pair(backend, directory: directory)

        // A caches "same" as version 1; B rewrites the same bytes with a 2 s TTL.
        #expect(try await HTTP.request("\(a.baseURL)/kv/k", method: .PUT, body: Array("same".utf8)).header("x-kv-version") == "1")
        #expect(try await HTTP.request("\(a.baseURL)/kv/k", method: .GET).status == 200)
        let rewrite = try await HTTP.request("\(b.baseURL)/kv/k?ttl=2s", method: .PUT, body: Array("same".utf8))
        #expect(rewrite.header("x-kv-version") == "2")
        try await Task.sleep(for: .milliseconds(3200))
        #expect(try await HTTP.request("\(b.baseURL)/kv/k", method: .GET).status == 404)
        for _ in 0..<3 {
            let stale = try await HTTP.request("\(a.baseURL)/kv/k", method: .GET)
            #expect(stale.status == 404, "A served version \(stale.header("x-kv-version") ?? "?") past its expiry")
        }

        // A writes X (1), B writes X (2), A writes Z: version 3, and version 2 is archived.
        let versions = [
            try await HTTP.request("\(a.baseURL)/kv/v", method: .PUT, body: Array("X".utf8)),
            try await HTTP.request("\(b.baseURL)/kv/v", method: .PUT, body: Array("X".utf8)),
            try await HTTP.request("\(a.baseURL)/kv/v", method: .PUT, body: Array("Z".utf8)),
        ].map { $0.header("x-kv-version") }
        #expect(versions == ["1", "2", "3"])
        #expect(try await HTTP.request("\(b.baseURL)/kv/v?version=2", method: .GET).text == "X")

        // A reads the ETag; B rewrites the same bytes; A's If-Match must fail.
        let read = try await HTTP.request("\(a.baseURL)/kv/v", method: .GET)
        let etag = try #require(read.header("etag"))
        #expect(try await HTTP.request("\(b.baseURL)/kv/v", method: .PUT, body: read.body).status == 200)
        let swap = try await HTTP.request("\(a.baseURL)/kv/v", method: .PUT, headers: [("If-Match", etag)], body: Array("W".utf8))
        #expect(swap.status == 412)
        #expect(a.stop(signal: SIGTERM) == 0)
        #expect(b.stop(signal: SIGTERM) == 0)
    }

    /// The embedded store only: moto checks a conditional PUT's condition and then writes, so two
    /// instances racing on moto both win now and then (measured: 1 duplicate in 600 writes under
    /// load), which no client can repair. Exactness across instances is the backend's to give;
    /// the S3 case belongs on an S3 server whose conditional writes are atomic.
    @Test("two instances writing one key at once never hand out a version twice", arguments: ["local"])
    func concurrentVersions(_ backend: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("s3kv-pair-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (a, b) = try Self.pair(backend, directory: directory)
        let writes = 40
        let versions = try await withThrowingTaskGroup(of: [String].self) { group in
            for (baseURL, port) in [(a.baseURL, a.port), (b.baseURL, b.port)] {
                group.addTask {
                    var seen: [String] = []
                    for index in 0..<writes {
                        // Alternate the same bytes and new ones.
                        let body = index.isMultiple(of: 2) ? "same" : "\(port)-\(index)"
                        let response = try await HTTP.request("\(baseURL)/kv/shared", method: .PUT, body: Array(body.utf8))
                        try #require(response.status == 200, "\(response.status) \(response.text)")
                        seen.append(try #require(response.header("x-kv-version")))
                    }
                    return seen
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(versions.count == 2 * writes)
        #expect(Set(versions).count == versions.count, "a version number was acknowledged twice")
        #expect(Set(versions) == Set((1...(2 * writes)).map(String.init)))
        #expect(a.stop(signal: SIGTERM) == 0)
        #expect(b.stop(signal: SIGTERM) == 0)
    }
}
