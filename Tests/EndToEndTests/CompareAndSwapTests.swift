import Foundation
import NIOHTTP1
import TestSupport
import Testing

/// The counter test: 8 concurrent clients each do 250 read-increment-write cycles with
/// `If-Match`, retrying on 412, against the real binary. Every increment must land exactly once.
@Suite(.serialized) struct CompareAndSwapTests {
    static let clients = 8
    static let cyclesPerClient = 250

    static var backends: [String] { S3Servers.enabled ? ["local", "s3"] : ["local"] }

    @Test("8 clients × 250 If-Match increments end at exactly 2,000", arguments: backends)
    func counter(_ backend: String) async throws {
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("s3kv-cas-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let environment: [String: String] =
            backend == "local"
            ? ["KV_STORAGE": "local", "KV_DATA_DIR": dataDirectory]
            : [
                "S3_ENDPOINT": try #require(S3Servers.endpoint), "S3_BUCKET": "cas-\(UUID().uuidString.lowercased())",
                "S3_ACCESS_KEY": S3Servers.accessKey, "S3_SECRET_KEY": S3Servers.secretKey, "S3_CREATE_BUCKET": "true",
            ]
        let server = try ServerProcess(environment: environment)
        let url = "\(server.baseURL)/kv/counter"
        #expect(try await HTTP.request(url, method: .PUT, headers: [("If-None-Match", "*")], body: Array("0".utf8)).status == 200)

        let conflicts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<Self.clients {
                group.addTask { try await Self.increment(url, times: Self.cyclesPerClient) }
            }
            return try await group.reduce(0, +)
        }
        let final = try await HTTP.request(url, method: .GET)
        #expect(final.text == "\(Self.clients * Self.cyclesPerClient)")
        #expect(final.headers.first { $0.0.lowercased() == "x-kv-version" }?.1 == "\(Self.clients * Self.cyclesPerClient + 1)")
        print("compare-and-swap on \(backend): \(Self.clients * Self.cyclesPerClient) increments, \(conflicts) retried 412s")
        #expect(server.stop(signal: SIGTERM) == 0)
    }

    /// Read, increment, write with If-Match; on 412 wait a random moment (as a well-behaved client
    /// does, so the last winner is not always first again) and read again. Bounded: a client gives
    /// up after 1,000 conflicts in a row, which would mean no progress at all.
    static func increment(_ url: String, times: Int) async throws -> Int {
        var conflicts = 0
        for _ in 0..<times {
            var streak = 0
            while true {
                let current = try await HTTP.request(url, method: .GET)
                try #require(current.status == 200, "GET: \(current.status) \(current.text)")
                let etag = try #require(current.headers.first { $0.0.lowercased() == "etag" }?.1)
                let next = try #require(Int(current.text)) + 1
                let write = try await HTTP.request(url, method: .PUT, headers: [("If-Match", etag)], body: Array("\(next)".utf8))
                if write.status == 200 { break }
                try #require(write.status == 412, "PUT: \(write.status) \(write.text)")
                conflicts += 1
                streak += 1
                try #require(streak < 1000, "no progress after 1,000 conflicts")
                try await Task.sleep(for: .microseconds(Int.random(in: 0...(2000 * min(streak, 8)))))
            }
        }
        return conflicts
    }
}
