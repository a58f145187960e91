import Synchronization

/// Slows the guessing of tokens: each client address may fail to authenticate `burst` times,
/// and then once per `interval`. An address past its allowance is answered 429 without its
/// token being looked at, so a guess made while throttled tells nothing, not even to a
/// client that happens to send a good token.
///
/// The table is bounded: it holds at most `maximumAddresses` addresses, and an address whose
/// allowance is whole again takes no room. When it is full, the address that failed longest
/// ago is forgotten (an attacker with many addresses can flush it; the bound is on memory).
public final class AuthThrottle: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Failures an address may have in a row before it is slowed; 0 turns slowing off.
        public var burst: Int
        /// How long an address waits to regain one attempt.
        public var interval: Duration
        /// The most addresses tracked at once.
        public var maximumAddresses: Int

        public init(burst: Int = 10, interval: Duration = .seconds(1), maximumAddresses: Int = 10_000) {
            self.burst = burst
            self.interval = interval
            self.maximumAddresses = maximumAddresses
        }
    }

    /// An address's allowance as a token bucket: `spent` attempts are out, as of `updated`.
    private struct Entry {
        var spent: Double
        var updated: ContinuousClock.Instant
    }

    public let configuration: Configuration
    private let now: @Sendable () -> ContinuousClock.Instant
    private struct State {
        var entries: [String: Entry] = [:]
        var lastFailure: ContinuousClock.Instant
    }

    private let table: Mutex<State>

    public init(_ configuration: Configuration, now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.configuration = configuration
        self.now = now
        self.table = Mutex(State(lastFailure: now()))
    }

    public var isEnabled: Bool { self.configuration.burst > 0 }

    /// Whether no address is tracked: then nothing is slowed, and a good token needs no look-up.
    /// Once every address has regained its whole allowance, the table is emptied.
    public var isIdle: Bool {
        guard self.isEnabled else { return true }
        return self.table.withLock { state in
            if state.entries.isEmpty { return true }
            guard self.now() - state.lastFailure >= self.configuration.interval * self.configuration.burst else { return false }
            state.entries.removeAll()
            return true
        }
    }

    /// How many addresses are tracked.
    public var trackedAddresses: Int { self.table.withLock { $0.entries.count } }

    /// How long `address` must wait before its next attempt counts, or nil when it may try now.
    public func wait(for address: String) -> Duration? {
        guard self.isEnabled else { return nil }
        let now = self.now()
        return self.table.withLock { state in
            guard let entry = state.entries[address] else { return nil }
            let spent = self.spent(entry, at: now)
            guard spent > Double(self.configuration.burst) - 1 else { return nil }
            return self.configuration.interval * (spent - Double(self.configuration.burst) + 1)
        }
    }

    /// Counts a failed authentication from `address`.
    public func recordFailure(from address: String) {
        guard self.isEnabled else { return }
        let now = self.now()
        self.table.withLock { state in
            let spent = state.entries[address].map { self.spent($0, at: now) } ?? 0
            if state.entries[address] == nil, state.entries.count >= self.configuration.maximumAddresses {
                self.makeRoom(in: &state.entries, at: now)
            }
            state.entries[address] = Entry(spent: min(spent + 1, Double(self.configuration.burst)), updated: now)
            state.lastFailure = now
        }
    }

    /// The attempts still out for `entry` at `now`: one comes back per interval.
    private func spent(_ entry: Entry, at now: ContinuousClock.Instant) -> Double {
        let regained = (now - entry.updated) / self.configuration.interval
        return max(0, entry.spent - regained)
    }

    /// Drops every address whose allowance is whole again; if none is, the oldest one.
    private func makeRoom(in table: inout [String: Entry], at now: ContinuousClock.Instant) {
        table = table.filter { self.spent($0.value, at: now) > 0 }
        if table.count >= self.configuration.maximumAddresses, let oldest = table.min(by: { $0.value.updated < $1.value.updated }) {
            table[oldest.key] = nil
        }
    }
}
