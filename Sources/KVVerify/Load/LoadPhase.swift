import Foundation
import NIOHTTP1

/// The load phase: `concurrency` workers for `duration`, each reading (80%) and writing (20%)
/// keys of its own, then a read of every key that checks no acknowledged write was lost.
///
/// Each worker owns its keys, so the value a key must hold afterwards is known: the last write
/// acknowledged with a 200, or a later write whose answer never arrived (it may have landed).
/// Anything else is a lost write.
struct LoadPhase: Sendable {
    let client: KVClient
    let prefix: String
    let concurrency: Int
    let duration: Duration
    static let keysPerWorker = 16

    func run() async -> LoadReport {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + self.duration
        let outcomes = await withTaskGroup(of: WorkerOutcome.self) { group in
            for worker in 0..<self.concurrency {
                group.addTask { await self.work(worker: worker, until: deadline, clock: clock) }
            }
            var all: [WorkerOutcome] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        let elapsed = clock.now - started
        var latencies = outcomes.flatMap(\.latencies)
        latencies.sort()
        var report = LoadReport(
            concurrency: self.concurrency,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
            requests: latencies.count,
            errors: outcomes.reduce(into: [:]) { total, outcome in total.merge(outcome.errors, uniquingKeysWith: +) },
            acknowledgedWrites: outcomes.reduce(0) { $0 + $1.acknowledged },
            p50Milliseconds: Self.percentile(latencies, 0.50),
            p99Milliseconds: Self.percentile(latencies, 0.99),
            lostWrites: 0,
            unverifiable: 0
        )
        // Every key's final value, read once the load is over (bounded retries per key: the
        // deployment may still be recovering from whatever the load phase went through).
        for outcome in outcomes {
            for (key, expected) in outcome.expected {
                switch await self.finalValue(of: key) {
                case .some(let value):
                    if !expected.allowed.contains(value) { report.lostWrites += 1 }
                case .none:
                    report.unverifiable += 1
                }
            }
        }
        return report
    }

    private struct WorkerOutcome: Sendable {
        var latencies: [Double] = []
        var errors: [String: Int] = [:]
        var acknowledged = 0
        var expected: [String: Expected] = [:]
    }

    /// What a key may hold: its last acknowledged value, or a later unacknowledged one; nil
    /// (never written) only while nothing was acknowledged.
    private struct Expected: Sendable {
        var allowed: Set<[UInt8]?> = [nil]
    }

    private func work(worker: Int, until deadline: ContinuousClock.Instant, clock: ContinuousClock) async -> WorkerOutcome {
        var outcome = WorkerOutcome()
        var generator = SystemRandomNumberGenerator()
        var sequence = 0
        while clock.now < deadline, !Task.isCancelled {
            let key = "\(self.prefix)load/w\(worker)/k\(Int.random(in: 0..<Self.keysPerWorker, using: &generator))"
            let write = Int.random(in: 0..<5, using: &generator) == 0
            sequence += 1
            let value = Array("w\(worker)-\(sequence)".utf8)
            let start = clock.now
            do {
                // Reads as most clients make them, served from an instance's cache when it can.
                let response = try await self.client.send(write ? .PUT : .GET, KVClient.path(key), body: write ? value : nil, cached: true)
                outcome.latencies.append(Self.milliseconds(clock.now - start))
                switch (write, response.status) {
                case (true, 200):
                    outcome.acknowledged += 1
                    outcome.expected[key] = Expected(allowed: [value])
                case (true, _):
                    outcome.errors["\(response.status) \(response.errorCode ?? "")", default: 0] += 1
                    // A 503 outcome_unknown, or a proxy's 502/504, may hide a write that landed.
                    outcome.expected[key, default: Expected()].allowed.insert(value)
                case (false, 200), (false, 404):
                    break
                case (false, _):
                    outcome.errors["\(response.status) \(response.errorCode ?? "")", default: 0] += 1
                }
            } catch {
                outcome.latencies.append(Self.milliseconds(clock.now - start))
                outcome.errors["no answer", default: 0] += 1
                if write { outcome.expected[key, default: Expected()].allowed.insert(value) }
            }
        }
        return outcome
    }

    /// The key's value (nil when it has none), or `.none` when no answer came in 10 tries.
    private func finalValue(of key: String) async -> [UInt8]?? {
        for attempt in 0..<10 {
            if attempt > 0 { try? await Task.sleep(for: .milliseconds(200)) }
            // From the backend, not a cache: behind a balancer another instance may still hold
            // an earlier value within its staleness bound.
            guard let response = try? await self.client.send(.GET, KVClient.path(key), headers: [("cache-control", "no-cache")]) else { continue }
            switch response.status {
            case 200: return .some(response.body)
            case 404: return .some(nil)
            default: continue
            }
        }
        return .none
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
    }
}
