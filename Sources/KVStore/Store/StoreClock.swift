public import Foundation

/// The two clocks the store reads, injected so tests control them exactly.
///
/// Wall time stamps expiry instants and write times, which are stored and compared across
/// instances. Monotonic time measures how long a cached entry has gone unchecked: it never
/// jumps when the system clock is stepped, so a clock set back cannot stretch the staleness
/// bound, and one set forward cannot void it.
public struct StoreClock: Sendable {
    /// The current wall-clock time.
    public var wallTime: @Sendable () -> Date
    /// The current monotonic instant.
    public var monotonic: @Sendable () -> ContinuousClock.Instant

    public init(wallTime: @escaping @Sendable () -> Date, monotonic: @escaping @Sendable () -> ContinuousClock.Instant) {
        self.wallTime = wallTime
        self.monotonic = monotonic
    }

    /// The system's clocks.
    public static let system = StoreClock(wallTime: Date.init, monotonic: { ContinuousClock.now })
}
