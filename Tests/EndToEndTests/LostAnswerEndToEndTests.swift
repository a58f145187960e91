import Foundation
import NIOHTTP1
import TestSupport
import Testing

/// The real binary on moto through a proxy that drops one answer in ten after moto applied the
/// request: the measurement of the review (a counter off by the writes answered 412, stored
/// create-only writes refused, new keys acknowledged as version 2) as a test.
@Suite(.serialized, .enabled(if: S3Servers.enabled, "set S3KV_TEST_S3_ENDPOINT or run scripts/test to include S3"))
struct LostAnswerEndToEndTests {
    @Test("through a lossy network every acknowledged write happened once, and every write that happened is acknowledged")
    func lossyBackendConnection() async throws {
        let proxy = try FaultProxy(upstream: try #require(S3Servers.endpoint), loseAnswers: 0.1, seed: 14)
        let environment = [
            "S3_ENDPOINT": proxy.endpoint, "S3_BUCKET": "lossy-\(UUID().uuidString.lowercased())", "S3_ACCESS_KEY": S3Servers.accessKey,
            "S3_SECRET_KEY": S3Servers.secretKey, "S3_CREATE_BUCKET": "true", "KV_CACHE_BYTES": "0",
        ]
        // Start-up's bucket check goes through the lossy proxy too, and may run out of retries.
        var started: ServerProcess?
        for _ in 0..<5 where started == nil { started = try? ServerProcess(environment: environment) }
        let server = try #require(started)
        let base = server.baseURL

        // A compare-and-swap counter with one client: a 412 would mean its own write was applied.
        #expect(try await HTTP.retrying("\(base)/kv/counter", method: .PUT, body: Array("0".utf8)).status == 200)
        var acknowledged = 0
        for _ in 0..<400 where acknowledged < 60 {
            let current = try await HTTP.retrying("\(base)/kv/counter", method: .GET)
            guard current.status == 200, let etag = current.header("etag"), let value = Int(current.text) else { continue }
            let write = try await HTTP.request("\(base)/kv/counter", method: .PUT, headers: [("If-Match", etag)], body: Array("\(value + 1)".utf8))
            switch write.status {
            case 200: acknowledged += 1
            case 503 where write.text.contains("outcome_unknown"):
                // As the error says: read before retrying. The increment counts if it is there.
                if try await HTTP.retrying("\(base)/kv/counter", method: .GET).text == "\(value + 1)" { acknowledged += 1 }
            case 503: continue
            default: Issue.record("PUT If-Match answered \(write.status): \(write.text)")
            }
        }
        #expect(acknowledged == 60)
        #expect(try await HTTP.retrying("\(base)/kv/counter", method: .GET).text == "\(acknowledged)")

        // Create-only writes of new keys: none may be refused, and each acknowledged one is stored.
        for index in 0..<60 {
            var status: UInt = 0
            for _ in 0..<5 where status != 200 {
                let write = try await HTTP.request("\(base)/kv/created/\(index)", method: .PUT, headers: [("If-None-Match", "*")], body: Array("c".utf8))
                status = write.status
                #expect(status != 412, "create-only write of a new key answered 412: \(write.text)")
                if status == 503 { continue }
            }
            #expect(status == 200)
        }
        // New keys by plain PUT: each is version 1.
        for index in 0..<100 {
            let write = try await HTTP.retrying("\(base)/kv/new/\(index)", method: .PUT, body: Array("n".utf8))
            #expect(write.status == 200)
            #expect(write.header("x-kv-version") == "1", "new key acknowledged as version \(write.header("x-kv-version") ?? "?")")
        }
        #expect(server.stop(signal: SIGTERM) == 0)
    }
}
