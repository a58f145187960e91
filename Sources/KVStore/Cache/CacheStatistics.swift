/// What the cache has done since start.
public struct CacheStatistics: Sendable, Equatable {
    /// Reads served from the cache without a backend request.
    public var hits = 0
    /// Reads that needed the backend (absent, stale or value not cached).
    public var misses = 0
    /// Entries dropped to make room.
    public var evictions = 0
    /// Memory held, by the cache's accounting of each entry (see ``ValueCache/cost(of:value:)``).
    public var bytes = 0
    public var entries = 0

    public init() {}
}
