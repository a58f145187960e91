import ObjectStore
import Synchronization
import S3Protocol

/// Whether S3 is answering at all, learned from the requests' own outcomes.
///
/// After ``Configuration/failureThreshold`` consecutive requests that got no answer (refused,
/// reset, timed out) or a server error, the circuit opens: requests fail at once, unsent, instead
/// of each waiting out its timeouts behind a dead backend, and the caller answers 503 right away.
/// While it is open, a probe (one cheap request, HeadBucket) runs every ``Configuration/probeInterval``;
/// the first that gets any answer closes the circuit, so service returns within about one interval
/// of the backend's return. Any answer, even a 4xx, proves the backend reachable and counts as a
/// success.
public final class CircuitBreaker: Sendable {
    /// When the circuit opens and how it closes.
    public struct Configuration: Sendable, Equatable {
        /// Consecutive failures that open the circuit; 0 turns it off.
        public var failureThreshold: Int
        /// Time between probes while open.
        public var probeInterval: Duration

        public init(failureThreshold: Int = 5, probeInterval: Duration = .milliseconds(250)) {
            self.failureThreshold = failureThreshold
            self.probeInterval = probeInterval
        }
    }

    private struct State {
        var consecutiveFailures = 0
        var isOpen = false
        var prober: Task<Void, Never>?
        var stopped = false
    }

    public let configuration: Configuration
    private let state = Mutex(State())
    private let onChange: @Sendable (_ open: Bool) -> Void

    /// - Parameter onChange: told when the circuit opens (true) and closes (false), for logs and
    ///   metrics.
    public init(configuration: Configuration, onChange: @escaping @Sendable (_ open: Bool) -> Void = { _ in }) {
        self.configuration = configuration
        self.onChange = onChange
    }

    /// Whether requests may be sent now.
    public var isClosed: Bool { !self.state.withLock { $0.isOpen } }

    /// Records that a request got an answer.
    public func recordAnswer() {
        let closed = self.state.withLock { state -> Bool in
            state.consecutiveFailures = 0
            guard state.isOpen else { return false }
            state.isOpen = false
            state.prober?.cancel()
            state.prober = nil
            return true
        }
        if closed { self.onChange(false) }
    }

    /// Records that a request got no answer, or a server error; when that opens the circuit,
    /// `probe` (one cheap request, true when the backend answered at all) runs until it closes.
    public func recordFailure(probe: @escaping @Sendable () async -> Bool) {
        guard self.configuration.failureThreshold > 0 else { return }
        let opened = self.state.withLock { state -> Bool in
            state.consecutiveFailures += 1
            guard !state.isOpen, !state.stopped, state.consecutiveFailures >= self.configuration.failureThreshold else { return false }
            state.isOpen = true
            // Not bound by the deadline of the request that happened to open the circuit.
            state.prober = Task { await Deadline.withoutDeadline { await self.probeUntilClosed(probe) } }
            return true
        }
        if opened { self.onChange(true) }
    }

    /// Stops probing for good, for shutdown.
    public func stop() {
        self.state.withLock { state in
            state.stopped = true
            state.prober?.cancel()
            state.prober = nil
        }
    }

    private func probeUntilClosed(_ probe: @Sendable () async -> Bool) async {
        while !Task.isCancelled, !self.isClosed {
            if await probe() {
                self.recordAnswer()
                return
            }
            guard (try? await Task.sleep(for: self.configuration.probeInterval)) != nil else { return }
        }
    }
}
