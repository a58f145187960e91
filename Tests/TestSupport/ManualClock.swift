import Foundation
import KVStore
import Synchronization

/// A clock that moves only when told to, so expiry and staleness are exact in tests: its wall
/// time and its monotonic time advance together, unless a test steps the wall clock alone.
public final class ManualClock: Sendable {
    private let current: Mutex<(wall: Date, monotonic: ContinuousClock.Instant)>

    /// Starts at 2027-01-15T08:00:00Z.
    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        self.current = Mutex((start, ContinuousClock.now))
    }

    public var now: Date { self.current.withLock { $0.wall } }

    public func advance(_ duration: Duration) {
        self.current.withLock { $0 = ($0.wall.addingTimeInterval(duration.timeInterval), $0.monotonic.advanced(by: duration)) }
    }

    /// Moves the wall clock only, as an NTP step or an operator's `date -s` does.
    public func stepWallClock(by duration: Duration) {
        self.current.withLock { $0.wall = $0.wall.addingTimeInterval(duration.timeInterval) }
    }

    /// The wall clock alone, for components that read only it.
    public var function: @Sendable () -> Date { { self.now } }

    /// Both clocks, for a ``KeyValueStore``.
    public var storeClock: StoreClock {
        StoreClock(wallTime: { self.now }, monotonic: { self.current.withLock { $0.monotonic } })
    }
}

extension Duration {
    /// The duration in seconds, as `TimeInterval`.
    public var timeInterval: TimeInterval { Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18 }
}
