import Foundation
import NIOHTTP1
import TestSupport
import Testing

/// The binary on moto behind the fault proxy, with the backend black-holed and then refusing
/// connections: requests are answered within the request deadline with a 503, liveness stays
/// up and readiness down, service comes back within a second and a half of the backend, and no
/// acknowledged write is lost. The short form of scripts/reliability's outage scenario.
@Suite(.serialized, .enabled(if: S3Servers.enabled, "set S3KV_TEST_S3_ENDPOINT or run scripts/test to include S3"))
struct OutageEndToEndTests {
    static let requestTimeout = 2.0

    @Test("black-holed and refused backend: bounded 503s, /health up, /ready down, recovery within 1.5 s, nothing lost")
    func outage() async throws {
        let proxy = try FaultProxy(upstream: try #require(S3Servers.endpoint))
        let server = try ServerProcess(environment: [
            "S3_ENDPOINT": proxy.endpoint, "S3_BUCKET": "outage-\(UUID().uuidString.lowercased())", "S3_ACCESS_KEY": S3Servers.accessKey,
            "S3_SECRET_KEY": S3Servers.secretKey, "S3_CREATE_BUCKET": "true", "KV_CACHE_BYTES": "0",
            "KV_REQUEST_TIMEOUT": "\(Int(Self.requestTimeout))s",
        ])
        let base = server.baseURL
        var acknowledged: [String: String] = [:]
        for index in 0..<20 {
            let value = "before-\(index)"
            // Set-up before the outage: a 503 from a moto slowed by other suites is sent again.
            let put = try await HTTP.retrying("\(base)/kv/k\(index)", method: .PUT, body: Array(value.utf8))
            #expect(put.status == 200, "\(put.status) \(put.text)")
            acknowledged["k\(index)"] = value
        }

        for mode in ["blackhole", "refuse"] {
            try await proxy.set(["mode": mode])
            let outageStart = ContinuousClock.now
            var slowest = Duration.zero
            var index = 0
            while ContinuousClock.now - outageStart < .seconds(3) {
                index += 1
                let started = ContinuousClock.now
                let isWrite = index.isMultiple(of: 2)
                let response =
                    isWrite
                    ? try await HTTP.request("\(base)/kv/during-\(mode)-\(index)", method: .PUT, body: Array("x".utf8))
                    : try await HTTP.request("\(base)/kv/k\(index % 20)", method: .GET)
                let took = ContinuousClock.now - started
                slowest = max(slowest, took)
                if response.status == 200 {
                    if isWrite { acknowledged["during-\(mode)-\(index)"] = "x" }
                    continue
                }
                #expect(response.status == 503, "\(mode): \(response.status) \(response.text)")
                #expect(response.header("retry-after") == "1")
                #expect(["backend_unavailable", "timeout", "outcome_unknown"].contains { response.text.contains(#""code":"\#($0)""#) })
            }
            // The deadline, plus slack for a 2-core machine running the other suites at once.
            #expect(slowest < .milliseconds(Int64(Self.requestTimeout * 1000) + 2000), "\(mode): a request took \(slowest)")
            #expect(try await HTTP.request("\(base)/health", method: .GET).status == 200)
            #expect(try await HTTP.request("\(base)/ready", method: .GET).status == 503)

            try await proxy.set(["mode": "normal"])
            let returned = ContinuousClock.now
            var recovered: Duration?
            while recovered == nil, ContinuousClock.now - returned < .seconds(10) {
                if try await HTTP.request("\(base)/kv/k0", method: .GET).status == 200 { recovered = ContinuousClock.now - returned }
            }
            let recovery = try #require(recovered, "\(mode): no service 10 s after the backend returned")
            print("outage \(mode): slowest answer \(slowest), recovery \(recovery)")
            #expect(recovery < .milliseconds(1500), "\(mode): recovery took \(recovery)")
        }
        for (key, value) in acknowledged {
            let read = try await HTTP.retrying("\(base)/kv/\(key)", method: .GET)
            #expect(read.status == 200 && read.text == value, "acknowledged \(key) lost: \(read.status)")
        }
        #expect(server.stop(signal: SIGTERM) == 0)
    }
}
