import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KVServer
import ObjectStore
import Synchronization
import TestSupport
import Testing

@Suite("Readiness")
struct ReadinessTests {
    /// A probe that counts its calls, takes `delay` and fails while `failing` is set.
    final class Probe: Sendable {
        let calls = Mutex(0)
        let failing = Mutex(false)
        let delay: Duration

        init(delay: Duration = .zero) {
            self.delay = delay
        }

        func run() async throws {
            self.calls.withLock { $0 += 1 }
            if self.delay > .zero { try await Task.sleep(for: self.delay) }
            if self.failing.withLock({ $0 }) { throw ObjectStoreError(.unavailable, "connection refused") }
        }
    }

    /// A clock the test moves by hand.
    final class Clock: Sendable {
        let instant = Mutex(ContinuousClock.now)
        func now() -> ContinuousClock.Instant { self.instant.withLock { $0 } }
        func advance(by duration: Duration) { self.instant.withLock { $0 = $0.advanced(by: duration) } }
    }

    @Test("Concurrent checks share one probe")
    func singleFlight() async {
        let probe = Probe(delay: .milliseconds(100))
        let check = ReadinessCheck(probe: probe.run)
        let statuses = await withTaskGroup(of: ReadinessCheck.Status.self) { group in
            for _ in 0..<20 { group.addTask { await check.status() } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: .ready, count: 20))
        #expect(probe.calls.withLock { $0 } == 1)
    }

    @Test("An answer is reused for maximumAge, then the backend is asked again")
    func reuse() async {
        let probe = Probe()
        let clock = Clock()
        let check = ReadinessCheck(maximumAge: .seconds(1), now: clock.now, probe: probe.run)
        #expect(await check.status() == .ready)
        clock.advance(by: .milliseconds(999))
        probe.failing.withLock { $0 = true }
        #expect(await check.status() == .ready)
        #expect(probe.calls.withLock { $0 } == 1)
        clock.advance(by: .milliseconds(1))
        #expect(await check.status() == .notReady(reason: "storage backend unavailable"))
        #expect(probe.calls.withLock { $0 } == 2)
    }

    @Test("A probe that hangs counts as a failure after the timeout")
    func timeout() async {
        let check = ReadinessCheck(timeout: .milliseconds(50), probe: Probe(delay: .seconds(30)).run)
        let status = await check.status()
        #expect(status == .notReady(reason: "storage backend did not answer in time"))
    }

    @Test("GET /ready: 200 when the backend answers, 503 with the reason when it does not")
    func route() async throws {
        try await withAPI { client in
            let response = try await client.execute(uri: "/ready", method: .get)
            #expect(response.status == .ok)
            #expect(response.text == #"{"status":"ready"}"#)
        }
        try await withAPI(objects: failingStore(ObjectStoreError(.accessDenied, "AccessDenied: bad key"))) { client in
            let response = try await client.execute(uri: "/ready", method: .get)
            #expect(response.status == .serviceUnavailable)
            // The backend's own words stay in the log: no host names or S3 codes on a public endpoint.
            #expect(response.text == #"{"reason":"storage backend unavailable","status":"not_ready"}"#)
        }
    }
}
