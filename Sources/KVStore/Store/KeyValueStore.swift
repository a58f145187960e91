public import CoreMetrics
import Foundation
public import Logging
import NIOCore
public import ObjectStore

/// The key-value domain over an ``ObjectStore``: keys, versions, expiry, conditions and the
/// value cache.
///
/// The object store is the only source of truth: any number of instances may share one backend,
/// and every condition is checked by the backend itself (conditional writes), never by a read
/// followed by a write. Each write stores its value with a ``WriteID`` of its own (see
/// ``ValueEncoding``), so ETags, and every condition built on them, tell any two writes apart.
/// The cache only saves requests; how stale it may be is bounded by
/// ``ValueCache/Configuration/maxStaleness``. Every error it throws is a ``KVError``.
public struct KeyValueStore: Sendable {
    /// The content type of values written without one.
    public static let defaultContentType = "application/octet-stream"
    /// How often a write retries when other writers change the key under it.
    static let maximumWriteAttempts = 16

    let objects: any ObjectStore
    public let configuration: KVStoreConfiguration
    public let cache: ValueCache
    let history: VersionHistory
    /// Serialises this instance's writes per key.
    let writeLocks = KeyLocks()
    let logger: Logger
    /// The clocks: injected so tests control expiry and cache staleness exactly.
    let clock: StoreClock

    /// - Parameters:
    ///   - metrics: where the cache reports hits, misses, evictions and size.
    ///   - clock: wall time for expiry, monotonic time for cache staleness; injected so tests
    ///     control both exactly.
    public init(
        objects: any ObjectStore,
        configuration: KVStoreConfiguration = .init(),
        logger: Logger = Logger(label: "s3kv.store"),
        metrics: any MetricsFactory = MetricsSystem.factory,
        clock: StoreClock = .system
    ) {
        self.objects = objects
        self.configuration = configuration
        self.cache = ValueCache(configuration: configuration.cache, metrics: metrics)
        self.history = VersionHistory(objects: objects, limit: configuration.versionHistory)
        self.logger = logger
        self.clock = clock
    }

    /// Bytes an object holds beyond its value (the write id that ends it): a backend that stores
    /// objects of up to n bytes holds values of up to n minus this.
    public static let objectOverheadBytes = ValueEncoding.trailerBytes

    /// The largest value the backend can store and return whole. A server must not accept larger.
    public var maximumValueBytes: Int {
        self.objects.limits.maximumObjectBytes - Self.objectOverheadBytes
    }

    /// One cheap request proving the backend can serve, for readiness checks. Throws the
    /// backend's own error, whose message says what is wrong.
    public func probe() async throws {
        try await self.objects.probe()
    }

    // MARK: Reads

    /// Reads the current value. An expired value is not found, even before it is reclaimed.
    ///
    /// A cached value is served without asking the backend while it is fresh
    /// (``ValueCache/Configuration/maxStaleness``), and for
    /// ``ValueCache/Configuration/staleWhileRevalidate`` more while one background revalidation
    /// runs, so a hot key's reads do not wait on a slow backend.
    ///
    /// - Parameter fresh: ask the backend whatever the cache holds (a client's `no-cache`).
    /// - Throws: `.notFound` when missing or expired; `.notModified` when `ifNoneMatch` matches.
    public func get(_ key: Key, ifNoneMatch: ETagMatch? = nil, fresh: Bool = false) async throws -> Entry {
        let now = self.clock.wallTime()
        let instant = self.clock.monotonic()
        let cached = self.cache.entry(for: key, now: now)
        if !fresh, let cached, let value = cached.value {
            if self.cache.isFresh(cached, now: instant) {
                self.cache.recordHit(key)
                return try Self.answer(Entry(info: cached.info, value: value), ifNoneMatch: ifNoneMatch)
            }
            if self.cache.mayServeWhileRevalidating(cached, now: instant) {
                self.cache.recordHit(key)
                self.revalidateInBackground(key, cached: cached)
                return try Self.answer(Entry(info: cached.info, value: value), ifNoneMatch: ifNoneMatch)
            }
        }
        return try await self.load(key, ifNoneMatch: ifNoneMatch, cached: cached, now: now, instant: instant)
    }

    /// Revalidates `key`'s stale entry behind the reads that keep being served from it, one at a
    /// time per key, bounded by ``KVStoreConfiguration/backgroundTimeout``.
    @inline(never)
    func revalidateInBackground(_ key: Key, cached: ValueCache.Entry) {
        guard self.cache.beginRevalidation(key) else { return }
        Task {
            defer { self.cache.endRevalidation(key) }
            // Its own budget, not the deadline of the read that started it.
            _ = try? await Deadline.withoutDeadline {
                try await Deadline.withTimeout(self.configuration.backgroundTimeout) {
                    try await self.load(key, ifNoneMatch: nil, cached: cached, now: self.clock.wallTime(), instant: self.clock.monotonic())
                }
            }
        }
    }

    /// The part of ``get(_:ifNoneMatch:)`` that asks the backend: revalidating a stale cached
    /// value, or reading one the cache does not hold.
    ///
    /// Kept out of line so that a cache hit, which never suspends, does not carry this path's
    /// locals in its async frame: a task's allocator keeps its high-water mark, and the HTTP
    /// server runs each keep-alive connection as one task.
    @inline(never)
    func load(
        _ key: Key, ifNoneMatch: ETagMatch?, cached: ValueCache.Entry?, now: Date, instant: ContinuousClock.Instant
    ) async throws -> Entry {
        let name = BucketLayout.valueObject(for: key)
        if let cached, let value = cached.value {
            // Revalidate: a 304 confirms this very write (ETags are unique to a write), and with
            // it the cached version and expiry, without sending the value.
            self.cache.recordMiss(key)
            do {
                let object = try await self.objects.get(name, ifNoneMatch: .oneOf([cached.info.etag]))
                return try Self.answer(self.accept(object, key: key, now: now, instant: instant), ifNoneMatch: ifNoneMatch)
            } catch let error as ObjectStoreError where error.code == .notModified {
                self.cache.confirm(key, etag: cached.info.etag, confirmedAt: instant)
                return try Self.answer(Entry(info: cached.info, value: value), ifNoneMatch: ifNoneMatch)
            } catch let error as KVError {
                throw error
            } catch let error as ObjectStoreError where error.code == .unavailable && self.cache.mayServeOnError(cached, now: instant) {
                // stale-if-error: the backend is down, and the value is within the window.
                return try Self.answer(Entry(info: cached.info, value: value), ifNoneMatch: ifNoneMatch)
            } catch {
                self.cache.remove(key)
                throw KVError.from(error, key: key)
            }
        }
        if self.cache.isEnabled { self.cache.recordMiss(key) }
        do {
            let object = try await self.objects.get(name, ifNoneMatch: ifNoneMatch)
            return try Self.answer(self.accept(object, key: key, now: now, instant: instant), ifNoneMatch: ifNoneMatch)
        } catch let error as ObjectStoreError where error.code == .notModified {
            // The tag matched, but only the attributes tell whether the value has expired.
            let info = try await self.head(key)
            if ifNoneMatch?.matches(info.etag) == true { throw KVError.notModified(key) }
            return try await self.get(key)
        } catch let error as KVError {
            throw error
        } catch {
            if (error as? ObjectStoreError)?.code == .notFound { self.cache.remove(key) }
            throw KVError.from(error, key: key)
        }
    }

    /// Reads the current value's attributes. Same errors as ``get(_:ifNoneMatch:)``.
    ///
    /// - Parameter fresh: ask the backend whatever the cache holds (a client's `no-cache`).
    public func head(_ key: Key, ifNoneMatch: ETagMatch? = nil, fresh: Bool = false) async throws -> EntryInfo {
        let now = self.clock.wallTime()
        let instant = self.clock.monotonic()
        let cached = self.cache.entry(for: key, now: now)
        if !fresh, let cached, self.cache.isFresh(cached, now: instant) {
            self.cache.recordHit(key)
            return try Self.answer(cached.info, ifNoneMatch: ifNoneMatch)
        }
        if self.cache.isEnabled { self.cache.recordMiss(key) }
        let info = try await self.readCurrent(key, withValue: false, now: now)
        guard case .live(let info, _) = info else { throw KVError.notFound(key) }
        return try Self.answer(info, ifNoneMatch: ifNoneMatch)
    }

    /// Reads version `version` of `key`: the current value or one kept in history.
    ///
    /// - Throws: `.versionNotFound` when the key has no such version (never written, expired,
    ///   or pruned); `.notFound` when the key has neither a value nor history.
    public func get(_ key: Key, version: Int64) async throws -> Entry {
        do {
            var current = try await self.get(key)
            // A version past the one this instance knows was written elsewhere since: ask the
            // backend rather than answer from a cache that is behind.
            if current.info.version < version { current = try await self.get(key, fresh: true) }
            if current.info.version == version { return current }
        } catch let error as KVError where error.code == .notFound {
            // Deleted keys keep their history.
        }
        guard version > 0, let archived = try await self.history.version(version, of: key) else {
            throw KVError.versionNotFound(key, version)
        }
        guard !archived.info.metadata.isExpired(at: UnixMilliseconds(self.clock.wallTime())) else {
            throw KVError.versionNotFound(key, version)
        }
        return archived
    }

    /// The versions of `key` that can be read, newest first: the current value (if any) and
    /// those kept in history. Expired versions are left out.
    ///
    /// - Throws: `.notFound` when there are none.
    public func versions(of key: Key) async throws -> [EntryInfo] {
        let now = self.clock.wallTime()
        var versions: [EntryInfo] = []
        if case .live(let info, _) = try await self.readCurrent(key, withValue: false, now: now) {
            versions.append(info)
        }
        let archived = try await self.history.list(key, current: versions.first?.version)
        versions += archived.filter { !$0.metadata.isExpired(at: UnixMilliseconds(now)) }
        guard !versions.isEmpty else { throw KVError.notFound(key) }
        return versions
    }

    // MARK: Shared steps

    /// The current value of a key as the backend holds it now.
    enum Current {
        case absent
        /// Present and readable; the value when it was read.
        case live(EntryInfo, ByteBuffer?)
        /// Present but past its expiry: clients see no value, but the object still holds its version.
        case expired(EntryInfo, ByteBuffer?)

        var info: EntryInfo? {
            switch self {
            case .absent: nil
            case .live(let info, _), .expired(let info, _): info
            }
        }
    }

    /// Reads the key's current object from the backend (GET when the value is needed, else
    /// HEAD) and records what it found in the cache.
    func readCurrent(_ key: Key, withValue: Bool, now: Date) async throws -> Current {
        let name = BucketLayout.valueObject(for: key)
        let instant = self.clock.monotonic()
        let info: EntryInfo
        var value: ByteBuffer?
        do {
            if withValue {
                let object = try await self.objects.get(name, ifNoneMatch: nil)
                info = EntryInfo(key: key, object: object.info)
                value = try ValueEncoding.value(of: object.body, metadata: EntryMetadata(object.info.metadata), name: name)
            } else {
                info = EntryInfo(key: key, object: try await self.objects.head(name, ifNoneMatch: nil))
            }
        } catch let error as ObjectStoreError where error.code == .notFound {
            self.cache.remove(key)
            return .absent
        } catch {
            throw KVError.from(error, key: key)
        }
        if info.metadata.isExpired(at: UnixMilliseconds(now)) {
            self.cache.remove(key)
            return .expired(info, value)
        }
        if value == nil, let cached = self.cache.entry(for: key, now: now), cached.info.etag == info.etag {
            value = cached.value
        }
        self.cache.store(info, value: value, confirmedAt: instant)
        return .live(info, value)
    }

    /// Turns a fetched object into an entry, recording it in the cache unless it has expired.
    private func accept(_ object: StoredObject, key: Key, now: Date, instant: ContinuousClock.Instant) throws -> Entry {
        let info = EntryInfo(key: key, object: object.info)
        guard !info.metadata.isExpired(at: UnixMilliseconds(now)) else {
            self.cache.remove(key)
            throw KVError.notFound(key)
        }
        let value = try ValueEncoding.value(of: object.body, metadata: EntryMetadata(object.info.metadata), name: object.info.name)
        self.cache.store(info, value: value, confirmedAt: instant)
        return Entry(info: info, value: value)
    }

    private static func answer(_ entry: Entry, ifNoneMatch: ETagMatch?) throws -> Entry {
        if ifNoneMatch?.matches(entry.info.etag) == true { throw KVError.notModified(entry.info.key) }
        return entry
    }

    private static func answer(_ info: EntryInfo, ifNoneMatch: ETagMatch?) throws -> EntryInfo {
        if ifNoneMatch?.matches(info.etag) == true { throw KVError.notModified(info.key) }
        return info
    }

    /// Runs a backend operation on `key`, translating its errors into ``KVError``.
    func perform<Result>(on key: Key, _ operation: () async throws -> Result) async throws -> Result {
        do {
            return try await operation()
        } catch {
            throw KVError.from(error, key: key)
        }
    }
}
