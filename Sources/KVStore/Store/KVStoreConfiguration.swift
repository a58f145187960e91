/// How a ``KeyValueStore`` behaves: history, cache and expiry sweeping.
public struct KVStoreConfiguration: Sendable, Equatable {
    /// The most previous versions `versionHistory` may keep. A key's history is listed in one
    /// backend page (1,000 objects).
    public static let maximumVersionHistory = 999

    /// How many previous versions of each key are kept; 0 keeps none. Each kept version costs
    /// one more backend write per overwrite (the archive copy) plus its storage.
    public var versionHistory: Int
    /// The in-memory value cache.
    public var cache: ValueCache.Configuration
    /// How long after its expiry instant an expiry index entry is acted on. It covers a TTL
    /// write whose index entry landed but whose value upload is still in flight, so the sweeper
    /// never drops the index entry of a value about to appear.
    public var sweepSettleTime: Duration

    /// The deadline of work no request waits for (a background revalidation), so it cannot
    /// pile up behind a slow backend.
    public var backgroundTimeout: Duration

    public init(
        versionHistory: Int = 0, cache: ValueCache.Configuration = .init(), sweepSettleTime: Duration = .seconds(300),
        backgroundTimeout: Duration = .seconds(10)
    ) {
        self.versionHistory = versionHistory
        self.cache = cache
        self.sweepSettleTime = sweepSettleTime
        self.backgroundTimeout = backgroundTimeout
    }
}
