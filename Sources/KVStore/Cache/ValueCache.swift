public import CoreMetrics
import Foundation
import NIOCore
import ObjectStore
import Synchronization

/// An in-memory LRU cache of values, bounded in bytes, in front of the object store.
///
/// The cache is split into shards, each an ``LRUList`` behind its own lock, chosen by the key's
/// hash: concurrent requests for different keys rarely wait for each other, and no lock is held
/// across a backend call.
///
/// An entry records when its contents were last confirmed by the backend, on the monotonic
/// clock. The store serves it without asking the backend for ``Configuration/maxStaleness``;
/// after that it revalidates it with a conditional GET on its ETag. ETags differ for every
/// write (see ``ValueEncoding``), so a 304 confirms that very write, with its version and expiry.
/// That bounds how long a write made by another instance sharing the bucket can go unseen here.
/// Entries past their expiry are dropped, never served.
///
/// Memory is bounded by ``Configuration/capacityBytes``: each entry is charged what it really
/// holds (``cost(of:value:)``), and values are kept as exact copies, never as slices that
/// would pin the larger buffers they were read into.
public final class ValueCache: Sendable {
    /// Limits of the cache.
    public struct Configuration: Sendable, Equatable {
        /// Total bytes of cached values and keys; 0 turns the cache off.
        public var capacityBytes: Int
        /// Values larger than this are not cached (their attributes still are).
        public var maxValueBytes: Int
        /// How long an entry is served without asking the backend whether it changed.
        public var maxStaleness: Duration
        /// For how long past ``maxStaleness`` an entry is still served while one background
        /// revalidation of it runs (RFC 5861 `stale-while-revalidate`): a hot key's reads never
        /// wait for the backend unless it has not answered for this long.
        public var staleWhileRevalidate: Duration
        /// For how long past ``maxStaleness`` an entry is served when its revalidation fails
        /// because the backend is unavailable (RFC 5861 `stale-if-error`); 0 serves no stale value
        /// on error.
        public var staleIfError: Duration

        public init(
            capacityBytes: Int = 64 << 20,
            maxValueBytes: Int = 1 << 20,
            maxStaleness: Duration = .seconds(1),
            staleWhileRevalidate: Duration = .seconds(10),
            staleIfError: Duration = .zero
        ) {
            self.capacityBytes = capacityBytes
            self.maxValueBytes = maxValueBytes
            self.maxStaleness = maxStaleness
            self.staleWhileRevalidate = staleWhileRevalidate
            self.staleIfError = staleIfError
        }

        public static let disabled = Configuration(capacityBytes: 0)
    }

    /// What the cache holds for a key: the attributes of the value the backend held when
    /// `confirmedAt`, and the value itself unless it was too large.
    struct Entry: Sendable {
        var info: EntryInfo
        var value: ByteBuffer?
        var confirmedAt: ContinuousClock.Instant
    }

    /// Memory an entry holds beyond its strings and value bytes: the LRU node and its slot
    /// (with the array's growth slack), the index entry, the entry's fixed fields. Measured
    /// with malloc's own statistics (`ValueCacheMemoryTests`).
    static let entryOverhead = 400
    /// Memory a cached value holds beyond its bytes: the buffer's storage object and header.
    static let valueOverhead = 96
    static let shardCount = 16

    /// The metric names this type reports, with their help texts.
    public static let metricHelp: [String: String] = [
        "s3kv_cache_hits_total": "Reads answered from the value cache without a backend request.",
        "s3kv_cache_misses_total": "Reads that needed the backend: absent, stale or value too large to cache.",
        "s3kv_cache_evictions_total": "Cache entries dropped to make room.",
        "s3kv_cache_size_bytes": "Memory held by the value cache, as charged per entry: value buffers, strings and bookkeeping.",
        "s3kv_cache_entries": "Entries held by the value cache.",
    ]

    /// The cache's metrics, made once.
    private struct Instruments: Sendable {
        let hits: CoreMetrics.Counter
        let misses: CoreMetrics.Counter
        let evictions: CoreMetrics.Counter
        let bytes: Meter
        let entries: Meter

        init(factory: any MetricsFactory) {
            self.hits = Counter(label: "s3kv_cache_hits_total", factory: factory)
            self.misses = Counter(label: "s3kv_cache_misses_total", factory: factory)
            self.evictions = Counter(label: "s3kv_cache_evictions_total", factory: factory)
            self.bytes = Meter(label: "s3kv_cache_size_bytes", factory: factory)
            self.entries = Meter(label: "s3kv_cache_entries", factory: factory)
        }
    }

    public let configuration: Configuration
    private let shards: [Shard]
    private let instruments: Instruments
    /// Keys with a background revalidation under way: at most one each.
    private let revalidating = Mutex<Set<Key>>([])

    private struct ShardState {
        var entries: LRUList<Key, Entry>
        var statistics = CacheStatistics()
    }

    /// One lock and the entries it guards. A class, as a `Mutex` cannot be copied into an array.
    private final class Shard: Sendable {
        let state: Mutex<ShardState>

        init(capacity: Int) {
            self.state = Mutex(ShardState(entries: LRUList(capacity: capacity)))
        }

        func withLock<Result: Sendable>(_ body: (inout ShardState) -> Result) -> Result {
            self.state.withLock { body(&$0) }
        }
    }

    /// - Parameter metrics: where hits, misses, evictions and size are reported.
    public init(configuration: Configuration, metrics: any MetricsFactory = MetricsSystem.factory) {
        self.configuration = configuration
        self.instruments = Instruments(factory: metrics)
        let perShard = configuration.capacityBytes / Self.shardCount
        self.shards = (0..<Self.shardCount).map { _ in Shard(capacity: perShard) }
    }

    public var isEnabled: Bool { self.configuration.capacityBytes > 0 }

    /// The entry for `key` if it is not expired at the wall-clock time `now`; an expired entry
    /// is dropped.
    func entry(for key: Key, now: Date) -> Entry? {
        guard self.isEnabled else { return nil }
        return self.mutate(key) { shard in
            guard let entry = shard.entries.value(for: key) else { return nil }
            if entry.info.metadata.isExpired(at: UnixMilliseconds(now)) {
                shard.entries.remove(key)
                return nil
            }
            return entry
        }
    }

    /// Whether `entry` may be served without asking the backend at the monotonic instant `now`.
    func isFresh(_ entry: Entry, now: ContinuousClock.Instant) -> Bool {
        now - entry.confirmedAt < self.configuration.maxStaleness
    }

    /// Whether `entry`, no longer fresh, may still be served while it is revalidated behind.
    func mayServeWhileRevalidating(_ entry: Entry, now: ContinuousClock.Instant) -> Bool {
        now - entry.confirmedAt < self.configuration.maxStaleness + self.configuration.staleWhileRevalidate
    }

    /// Whether `entry` may be served because its revalidation failed with the backend unavailable.
    func mayServeOnError(_ entry: Entry, now: ContinuousClock.Instant) -> Bool {
        self.configuration.staleIfError > .zero && now - entry.confirmedAt < self.configuration.maxStaleness + self.configuration.staleIfError
    }

    /// Claims the background revalidation of `key`; false when one already runs.
    func beginRevalidation(_ key: Key) -> Bool {
        self.revalidating.withLock { $0.insert(key).inserted }
    }

    func endRevalidation(_ key: Key) {
        _ = self.revalidating.withLock { $0.remove(key) }
    }

    /// Records `info` (and `value`, when small enough) as what the backend held at the
    /// monotonic instant `confirmedAt`.
    func store(_ info: EntryInfo, value: ByteBuffer?, confirmedAt: ContinuousClock.Instant) {
        guard self.isEnabled else { return }
        let kept = value.flatMap { $0.readableBytes <= self.configuration.maxValueBytes ? Self.exactCopy($0) : nil }
        let cost = Self.cost(of: info, value: kept)
        let evicted = self.mutate(info.key) { shard in
            let evicted = shard.entries.set(Entry(info: info, value: kept, confirmedAt: confirmedAt), for: info.key, cost: cost)
            shard.statistics.evictions += evicted
            return evicted
        }
        if evicted > 0 { self.instruments.evictions.increment(by: Int64(evicted)) }
    }

    /// Marks `key`'s entry as confirmed by the backend at the monotonic instant `confirmedAt`
    /// (a revalidation answered 304).
    func confirm(_ key: Key, etag: ETag, confirmedAt: ContinuousClock.Instant) {
        self.mutate(key) { shard in
            guard var entry = shard.entries.value(for: key), entry.info.etag == etag else { return }
            entry.confirmedAt = confirmedAt
            shard.entries.set(entry, for: key, cost: Self.cost(of: entry.info, value: entry.value))
        }
    }

    /// What an entry holds in memory: the fixed overhead, the strings that live on the heap
    /// and the value's buffer, whose capacity NIO rounds up to a power of two.
    static func cost(of info: EntryInfo, value: ByteBuffer?) -> Int {
        Self.entryOverhead + heapBytes(info.key.rawValue) + heapBytes(info.etag.quoted) + heapBytes(info.contentType)
            + (value.map { Self.valueOverhead + $0.capacity } ?? 0)
    }

    /// The heap allocation of a string: none for the small strings stored inline (up to 15
    /// bytes), otherwise its bytes plus a header, rounded to malloc's 16-byte granularity.
    private static func heapBytes(_ string: String) -> Int {
        let count = string.utf8.count
        return count <= 15 ? 0 : (count + 32 + 15) & ~15
    }

    /// A buffer of its own holding exactly `value`'s readable bytes.
    private static func exactCopy(_ value: ByteBuffer) -> ByteBuffer {
        var copy = ByteBufferAllocator().buffer(capacity: value.readableBytes)
        copy.writeImmutableBuffer(value)
        return copy
    }

    func remove(_ key: Key) {
        guard self.isEnabled else { return }
        self.mutate(key) { _ = $0.entries.remove(key) }
    }

    func recordHit(_ key: Key) {
        self.shard(for: key).withLock { $0.statistics.hits += 1 }
        self.instruments.hits.increment()
    }

    func recordMiss(_ key: Key) {
        self.shard(for: key).withLock { $0.statistics.misses += 1 }
        self.instruments.misses.increment()
    }

    /// Runs `body` on `key`'s shard and reports how it changed the cache's size.
    private func mutate<Result: Sendable>(_ key: Key, _ body: (inout ShardState) -> Result) -> Result {
        let (result, bytes, entries) = self.shard(for: key).withLock { shard in
            let (bytes, entries) = (shard.entries.totalCost, shard.entries.count)
            let result = body(&shard)
            return (result, shard.entries.totalCost - bytes, shard.entries.count - entries)
        }
        if bytes != 0 { self.instruments.bytes.increment(by: Double(bytes)) }
        if entries != 0 { self.instruments.entries.increment(by: Double(entries)) }
        return result
    }

    /// Counters and sizes summed over the shards.
    public var statistics: CacheStatistics {
        self.shards.reduce(into: CacheStatistics()) { total, shard in
            shard.withLock { shard in
                total.hits += shard.statistics.hits
                total.misses += shard.statistics.misses
                total.evictions += shard.statistics.evictions
                total.bytes += shard.entries.totalCost
                total.entries += shard.entries.count
            }
        }
    }

    private func shard(for key: Key) -> Shard {
        // Hashing is seeded per process; that is fine for picking a shard.
        self.shards[Int(UInt(bitPattern: key.hashValue) % UInt(Self.shardCount))]
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var seconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
