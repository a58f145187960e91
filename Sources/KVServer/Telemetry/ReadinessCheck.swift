import Foundation
public import Logging
import Synchronization

/// Whether the service can serve: the storage backend answers its probe.
///
/// Cheap to poll however many probes ask: one probe runs at a time and its answer is reused for
/// ``maximumAge``, so load balancers and orchestrators polling every second cost the backend
/// about one request a second in all. A probe that hangs counts as a failure after ``timeout``.
public final class ReadinessCheck: Sendable {
    /// The answer of a check.
    public enum Status: Sendable, Equatable {
        case ready
        case notReady(reason: String)
    }

    /// How long an answer is reused.
    public let maximumAge: Duration
    /// How long a probe may take before the backend counts as unreachable.
    public let timeout: Duration

    /// What a check does: answer from the last probe, or wait for one.
    private enum Next: Sendable {
        case answer(Status)
        case wait(Task<Status, Never>)
    }

    private struct State {
        var last: (status: Status, at: ContinuousClock.Instant)?
        var running: Task<Status, Never>?
    }

    private let probe: @Sendable () async throws -> Void
    private let now: @Sendable () -> ContinuousClock.Instant
    private let logger: Logger
    private let state = Mutex(State())

    /// - Parameters:
    ///   - probe: one cheap request to the backend; throws when it cannot serve.
    ///   - now: the clock answers are aged by; injected so tests are exact.
    public init(
        maximumAge: Duration = .seconds(1),
        timeout: Duration = .seconds(2),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        logger: Logger = Logger(label: "s3kv.readiness"),
        probe: @escaping @Sendable () async throws -> Void
    ) {
        self.maximumAge = maximumAge
        self.timeout = timeout
        self.now = now
        self.logger = logger
        self.probe = probe
    }

    /// The current status: a recent answer, the running probe's, or a new probe's.
    public func status() async -> Status {
        let now = self.now()
        let next: Next = self.state.withLock { state in
            if let last = state.last, now - last.at < self.maximumAge { return .answer(last.status) }
            if let running = state.running { return .wait(running) }
            let running = Task { await self.runProbe() }
            state.running = running
            return .wait(running)
        }
        switch next {
        case .answer(let status): return status
        case .wait(let probe): return await probe.value
        }
    }

    private func runProbe() async -> Status {
        let status: Status
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.probe() }
                group.addTask {
                    try await Task.sleep(for: self.timeout)
                    throw ProbeTimeout(timeout: self.timeout)
                }
                try await group.next()
                group.cancelAll()
            }
            status = .ready
        } catch {
            // The reason is for the public endpoint: a short phrase. The backend's own words,
            // with its host name, go to the log.
            status = .notReady(reason: error is ProbeTimeout ? "storage backend did not answer in time" : "storage backend unavailable")
            self.logger.warning("readiness probe failed", metadata: ["error": "\(error)"])
        }
        let finished = self.now()
        self.state.withLock { state in
            state.last = (status, finished)
            state.running = nil
        }
        return status
    }

    private struct ProbeTimeout: Error, CustomStringConvertible {
        let timeout: Duration
        var description: String { "no answer within \(self.timeout)" }
    }
}
