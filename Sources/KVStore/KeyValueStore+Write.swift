import Foundation
import Logging
import NIOCore
import ObjectStore

extension KeyValueStore {
    /// Stores `value` under `key` as its next version, when `precondition` holds.
    ///
    /// The version number comes without a read when this instance knows the key (cache): the
    /// write is version n+1 conditional on n's tag. A key it does not know is written as new
    /// (conditional on there being none). Either is one backend request with history off and no
    /// TTL; only when the guess is wrong (another writer, an existing key not in the cache) does
    /// it cost a read and a retry. With a TTL, an expiry index entry is written first; with
    /// history on, the replaced version is archived first.
    ///
    /// - Parameter ttl: the value expires this long after the write; nil clears any expiry.
    /// - Throws: `.conditionFailed` when the precondition does not hold (`If-Match` on a missing
    ///   or expired key included); `.conflict` when other writers won ``maximumWriteAttempts``
    ///   times in a row.
    public func put(
        _ key: Key,
        value: ByteBuffer,
        contentType: String? = nil,
        precondition: WritePrecondition = .none,
        ttl: TimeToLive? = nil
    ) async throws -> WriteReceipt {
        try await self.writeLocks.withLock(key) {
            try await self.write(key, value: value, contentType: contentType, precondition: precondition, ttl: ttl)
        }
    }

    private func write(
        _ key: Key,
        value: ByteBuffer,
        contentType: String?,
        precondition: WritePrecondition,
        ttl: TimeToLive?
    ) async throws -> WriteReceipt {
        let now = self.now()
        let expiresAt = ttl.map { UnixMilliseconds(now).adding($0) }
        if let expiresAt {
            // Index first: if the value write then fails, the sweeper finds a stale entry and
            // drops it; the other order could leave an expiring value nobody reclaims.
            _ = try await self.perform(on: key) {
                try await self.objects.put(BucketLayout.expiryObject(for: key, expiresAt: expiresAt), body: ByteBuffer(), options: PutOptions())
            }
        }
        let contentType = contentType ?? Self.defaultContentType

        var current = self.guessCurrent(key, precondition: precondition, now: now)
        for attempt in 0..<Self.maximumWriteAttempts {
            if current == nil, attempt > 0 { try await Self.backOff(attempt) }
            let base: Current
            if let current {
                base = current
            } else {
                base = try await self.readCurrent(key, withValue: self.history.isEnabled, now: now)
            }
            try Self.check(precondition, against: base, key: key)

            let version: Int64
            let condition: WriteCondition
            if let replaced = base.info {
                if self.history.isEnabled {
                    guard try await self.archive(base) else {
                        current = nil
                        continue
                    }
                }
                (version, condition) = (replaced.version + 1, .ifMatch(replaced.etag))
            } else {
                (version, condition) = (try await self.perform(on: key) { try await self.history.nextVersionForAbsentKey(key) }, .ifNoneExists)
            }

            let metadata = EntryMetadata(version: version, expiresAt: expiresAt, createdAt: UnixMilliseconds(now))
            let options = PutOptions(contentType: contentType, metadata: metadata.objectMetadata, condition: condition)
            let etag: ETag
            do {
                etag = try await self.objects.put(BucketLayout.valueObject(for: key), body: value, options: options)
            } catch let error as ObjectStoreError where error.code == .preconditionFailed || error.code == .notFound {
                // Someone else wrote (or deleted) first. A client's own tag failing is final;
                // otherwise read what is there now and go again.
                self.cache.remove(key)
                if case .ifMatch = precondition { throw KVError.conditionFailed(key) }
                current = nil
                continue
            } catch {
                throw KVError.from(error, key: key)
            }

            let info = EntryInfo(
                key: key, size: value.readableBytes, etag: etag, lastModified: UnixMilliseconds(now).date, contentType: contentType,
                version: version, expiresAt: expiresAt
            )
            self.cache.store(info, value: value, now: now)
            if let replaced = base.info { await self.pruneHistory(key, archived: replaced.version) }
            return WriteReceipt(key: key, size: value.readableBytes, etag: etag, version: version, expiresAt: expiresAt)
        }
        throw KVError.conflict(key, attempts: Self.maximumWriteAttempts)
    }

    /// Deletes the current value. With history on, it is archived first, so every version stays
    /// readable with `?version=` until pruned.
    ///
    /// Object stores report success for deleting a missing object; the key-value API answers
    /// "not found" instead, so the current value is read first (two backend requests, three
    /// with history: the archive copy).
    ///
    /// - Parameter ifMatch: delete only if the current value has this tag.
    /// - Throws: `.notFound` when missing or expired; `.conditionFailed` when `ifMatch` does not match.
    public func delete(_ key: Key, ifMatch: ETag? = nil) async throws {
        try await self.writeLocks.withLock(key) { try await self.remove(key, ifMatch: ifMatch) }
    }

    private func remove(_ key: Key, ifMatch: ETag?) async throws {
        for attempt in 0..<Self.maximumWriteAttempts {
            if attempt > 0 { try await Self.backOff(attempt) }
            let now = self.now()
            let base = try await self.readCurrent(key, withValue: self.history.isEnabled, now: now)
            guard case .live(let info, _) = base else { throw KVError.notFound(key) }
            if let ifMatch, ifMatch != info.etag { throw KVError.conditionFailed(key) }
            if self.history.isEnabled {
                guard try await self.archive(base) else { continue }
            }
            // Conditional on what was read (and archived) when history is on or the client asked;
            // otherwise a concurrent rewrite in between is deleted too: the last request wins.
            let condition = self.history.isEnabled || ifMatch != nil ? info.etag : nil
            do {
                try await self.objects.delete(BucketLayout.valueObject(for: key), ifMatch: condition)
            } catch let error as ObjectStoreError where error.code == .preconditionFailed || error.code == .notFound {
                self.cache.remove(key)
                if ifMatch != nil { throw KVError.conditionFailed(key) }
                continue
            } catch {
                throw KVError.from(error, key: key)
            }
            self.cache.remove(key)
            await self.pruneHistory(key, archived: info.version)
            return
        }
        throw KVError.conflict(key, attempts: Self.maximumWriteAttempts)
    }

    /// Reclaims `key` if its value is the one that expired at `expiresAt`: the delete is
    /// conditional on the tag that was checked, so a value written since is never touched.
    /// - Returns: whether a value was deleted.
    func reclaim(_ key: Key, expiredAt expiresAt: UnixMilliseconds) async throws -> Bool {
        try await self.writeLocks.withLock(key) { try await self.reclaimLocked(key, expiredAt: expiresAt) }
    }

    private func reclaimLocked(_ key: Key, expiredAt expiresAt: UnixMilliseconds) async throws -> Bool {
        let base = try await self.readCurrent(key, withValue: self.history.isEnabled, now: self.now())
        guard case .expired(let info, _) = base, info.expiresAt == expiresAt else { return false }
        // Archived, the expired version keeps its number taken (and stays unreadable).
        if self.history.isEnabled {
            guard try await self.archive(base) else { return false }
        }
        do {
            try await self.objects.delete(BucketLayout.valueObject(for: key), ifMatch: info.etag)
        } catch let error as ObjectStoreError where error.code == .preconditionFailed || error.code == .notFound {
            return false
        } catch {
            throw KVError.from(error, key: key)
        }
        self.cache.remove(key)
        await self.pruneHistory(key, archived: info.version)
        return true
    }

    // MARK: Steps

    /// Waits before retrying a write another writer won: exponential with full jitter (up to
    /// 4 ms, 8 ms, ... capped at 250 ms), so writers contending for one key spread out instead of
    /// colliding again in lockstep.
    private static func backOff(_ attempt: Int) async throws {
        let ceiling = min(250_000, 2000 << min(attempt, 10))
        try await Task.sleep(for: .microseconds(Int.random(in: 0...ceiling)))
    }

    /// What this instance believes the key holds, without asking the backend; nil when it must ask.
    private func guessCurrent(_ key: Key, precondition: WritePrecondition, now: Date) -> Current? {
        let cached = self.cache.entry(for: key, now: now)
        // Archiving needs the bytes of the version being replaced.
        let usable = cached.flatMap { cached in self.history.isEnabled && cached.value == nil ? nil : cached }
        switch precondition {
        case .ifNoneExists:
            return .absent
        case .none:
            return usable.map { .live($0.info, $0.value) } ?? .absent
        case .ifMatch(let etag):
            guard let usable, usable.info.etag == etag else { return nil }
            return .live(usable.info, usable.value)
        case .ifExists:
            return usable.map { .live($0.info, $0.value) }
        }
    }

    private static func check(_ precondition: WritePrecondition, against current: Current, key: Key) throws {
        switch (precondition, current) {
        case (.none, _), (.ifNoneExists, .absent), (.ifNoneExists, .expired), (.ifExists, .live):
            return
        case (.ifMatch(let etag), .live(let info, _)) where info.etag == etag:
            return
        default:
            throw KVError.conditionFailed(key)
        }
    }

    /// Archives the version `current` holds, reading its bytes if needed.
    /// - Returns: false when the key changed since `current` was read, so the caller starts over.
    private func archive(_ current: Current) async throws -> Bool {
        guard let info = current.info else { return true }
        var value: ByteBuffer?
        switch current {
        case .live(_, let bytes), .expired(_, let bytes): value = bytes
        case .absent: break
        }
        if value == nil {
            let fresh = try await self.readCurrent(info.key, withValue: true, now: self.now())
            guard let freshInfo = fresh.info, freshInfo.etag == info.etag else { return false }
            switch fresh {
            case .live(_, let bytes), .expired(_, let bytes): value = bytes
            case .absent: return false
            }
        }
        try await self.perform(on: info.key) { try await self.history.archive(info, value: value ?? ByteBuffer()) }
        return true
    }

    /// Drops the version that fell out of the history. Best effort: a failure leaves one extra
    /// archived version, which the next listing of the key's versions removes.
    private func pruneHistory(_ key: Key, archived version: Int64) async {
        guard self.history.isEnabled else { return }
        do {
            try await self.history.prune(key, newestArchived: version)
        } catch {
            self.logger.warning("could not prune the history of a key", metadata: ["key": "\(key)", "error": "\(error)"])
        }
    }
}
