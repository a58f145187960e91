import Foundation
import Logging
public import NIOCore
public import ObjectStore

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
    /// Each attempt stores the value under a new ``WriteID``. When an attempt's answer is lost,
    /// the store reads the key and recognises its own write by that id, so a write that landed is
    /// acknowledged and never applied a second time (see ``resolve(_:attempts:version:base:)``).
    ///
    /// - Parameter ttl: the value expires this long after the write; nil clears any expiry.
    /// - Throws: `.conditionFailed` when the precondition does not hold (`If-Match` on a missing
    ///   or expired key included); `.conflict` when other writers won ``maximumWriteAttempts``
    ///   times in a row; `.outcomeUnknown` when the backend lost the answer to a conditional
    ///   write and the write's fate cannot be established.
    public func put(
        _ key: Key,
        value: ByteBuffer,
        contentType: String? = nil,
        precondition: WritePrecondition = .none,
        ttl: TimeToLive? = nil
    ) async throws -> WriteReceipt {
        try await self.locked(key) {
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
        let now = self.clock.wallTime()
        let (contentType, expiresAt) = try await self.prepareWrite(key, contentType: contentType, ttl: ttl, now: now)
        let name = BucketLayout.valueObject(for: key)
        /// Every id this call has written under: one of them found in the key means it landed.
        var attempts: [WriteID] = []
        var current = self.guessCurrent(key, precondition: precondition, now: now)
        /// Whether an attempt's answer was lost: past the deadline, its fate is then unknown.
        var ambiguous = false
        for attempt in 0..<Self.maximumWriteAttempts {
            if current == nil, attempt > 0 { try await Self.backOff(attempt) }
            if Deadline.hasPassed {
                if ambiguous { throw KVError.outcomeUnknown(key, ObjectStoreError(.outcomeUnknown, "the deadline passed while resolving")) }
                throw KVError.timedOut(key)
            }
            let base: Current
            if let current {
                base = current
            } else {
                // A backend that streams may hold a value too large to read: it is archived by copy.
                base = try await self.readCurrent(key, withValue: self.history.isEnabled && !self.streamsLargeValues, now: now)
                // An earlier attempt whose answer was lost may be what is there now.
                if let info = base.info, let id = info.writeID, attempts.contains(id) {
                    return WriteReceipt(key: key, size: info.size, etag: info.etag, version: info.version, expiresAt: info.expiresAt)
                }
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

            let writeID = WriteID()
            attempts.append(writeID)
            let metadata = EntryMetadata(
                version: version, expiresAt: expiresAt, createdAt: UnixMilliseconds(now), writeID: writeID, replaces: base.info?.writeID
            )
            let options = PutOptions(contentType: contentType, metadata: metadata.objectMetadata, condition: condition)
            let body = ValueEncoding.body(value, writeID: writeID)
            let sent = self.clock.monotonic()
            var etag: ETag
            var isCurrent = true
            do {
                etag = try await self.objects.put(name, body: body, options: options)
            } catch let error as ObjectStoreError where error.code == .preconditionFailed || error.code == .notFound {
                // Someone else wrote (or deleted) first. A client's own tag failing is final;
                // otherwise read what is there now and go again.
                self.cache.remove(key)
                if case .ifMatch = precondition, attempts.count == 1 { throw KVError.conditionFailed(key) }
                current = nil
                continue
            } catch let error as ObjectStoreError where error.code == .outcomeUnknown {
                self.cache.remove(key)
                ambiguous = true
                switch try await self.resolve(key, attempts: attempts, version: version, base: base) {
                case .applied(let found, let stillCurrent):
                    (etag, isCurrent) = (found ?? ETag.md5(of: body.readableBytesView), stillCurrent)
                case .notApplied(let baseStillCurrent):
                    current = baseStillCurrent ? base : nil
                    continue
                case .unknown where precondition == .none:
                    // An unconditional write may safely land twice: write it again as a new version.
                    current = nil
                    continue
                case .unknown:
                    throw KVError.outcomeUnknown(key, error)
                }
            } catch {
                throw KVError.from(error, key: key)
            }

            let info = EntryInfo(
                key: key, size: value.readableBytes, etag: etag, lastModified: UnixMilliseconds(now).date, contentType: contentType,
                version: version, expiresAt: expiresAt
            )
            if isCurrent {
                var cached = info
                (cached.writeID, cached.replaces) = (writeID, base.info?.writeID)
                self.cache.store(cached, value: value, confirmedAt: sent)
            }
            if let replaced = base.info { await self.pruneHistory(key, archived: replaced.version) }
            return WriteReceipt(key: key, size: value.readableBytes, etag: etag, version: version, expiresAt: expiresAt)
        }
        throw KVError.conflict(key, attempts: Self.maximumWriteAttempts)
    }

    /// What every write does before its value: checks the content type and, for a value that
    /// expires, writes its expiry index entry. Index first: if the value write then fails, the
    /// sweeper finds a stale entry and drops it; the other order could leave an expiring value
    /// nobody reclaims.
    func prepareWrite(
        _ key: Key, contentType: String?, ttl: TimeToLive?, now: Date
    ) async throws -> (contentType: String, expiresAt: UnixMilliseconds?) {
        let expiresAt = ttl.map { UnixMilliseconds(now).adding($0) }
        let contentType = contentType ?? Self.defaultContentType
        do {
            try ObjectLimits.checkContentType(contentType)
        } catch {
            throw KVError(.invalidRequest, error.message)
        }
        if let expiresAt {
            _ = try await self.perform(on: key) {
                try await self.objects.put(BucketLayout.expiryObject(for: key, expiresAt: expiresAt), body: ByteBuffer(), options: PutOptions())
            }
        }
        return (contentType, expiresAt)
    }

    /// What became of a conditional write whose answer was lost.
    enum WriteResolution {
        /// It landed: with its ETag when the key still holds it (`stillCurrent`).
        case applied(ETag?, stillCurrent: Bool)
        /// It did not land. When `baseStillCurrent`, the key still holds what the write was
        /// conditional on, so the same write may be sent again.
        case notApplied(baseStillCurrent: Bool)
        /// The evidence is gone (the key was deleted or rewritten more than once since, with
        /// no history to show it).
        case unknown
    }

    /// Finds out whether version `version`, written by one of `attempts` conditionally on
    /// `base`, landed: by the id in the key's object now, the id the next write recorded as the
    /// one it replaced, or the archived copy of the version.
    func resolve(_ key: Key, attempts: [WriteID], version: Int64, base: Current) async throws -> WriteResolution {
        let found: ObjectInfo?
        do {
            found = try await self.objects.head(BucketLayout.valueObject(for: key), ifNoneMatch: nil)
        } catch let error as ObjectStoreError where error.code == .notFound {
            found = nil
        } catch {
            throw KVError.outcomeUnknown(key, error)
        }
        if let found {
            let metadata = EntryMetadata(found.metadata)
            if let id = metadata.writeID, attempts.contains(id) { return .applied(found.etag, stillCurrent: true) }
            if let replaced = base.info, found.etag == replaced.etag { return .notApplied(baseStillCurrent: true) }
            if let id = metadata.replaces, attempts.contains(id) { return .applied(nil, stillCurrent: false) }
            // Another write holds our number: ours never landed.
            if metadata.version == version { return .notApplied(baseStillCurrent: false) }
        }
        if self.history.isEnabled {
            do {
                let archived = try await self.objects.head(BucketLayout.versionObject(for: key, version: version), ifNoneMatch: nil)
                if let id = EntryMetadata(archived.metadata).writeID, attempts.contains(id) { return .applied(nil, stillCurrent: false) }
                return .notApplied(baseStillCurrent: false)
            } catch let error as ObjectStoreError where error.code == .notFound {
                // Not archived: it was never replaced, or it was pruned.
            } catch {
                throw KVError.outcomeUnknown(key, error)
            }
        }
        // A create that finds the key still absent did not land (unless another instance
        // deleted it within these milliseconds, which no store without history can show).
        if found == nil, base.info == nil { return .notApplied(baseStillCurrent: true) }
        return .unknown
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
        try await self.locked(key) { try await self.remove(key, ifMatch: ifMatch) }
    }

    private func remove(_ key: Key, ifMatch: ETag?) async throws {
        /// The value a delete whose answer was lost was aimed at.
        var lost: EntryInfo?
        for attempt in 0..<Self.maximumWriteAttempts {
            if attempt > 0, lost == nil { try await Self.backOff(attempt) }
            let now = self.clock.wallTime()
            let base = try await self.readCurrent(key, withValue: self.history.isEnabled, now: now)
            if let target = lost {
                switch base {
                case .absent, .expired:
                    // The lost delete (or another) removed the value: what the client asked for.
                    self.cache.remove(key)
                    return
                case .live(let info, _) where info.etag == target.etag:
                    lost = nil  // It did not land; delete again.
                case .live(let info, _) where info.replaces != nil && info.replaces == target.writeID:
                    // Overwritten before the delete could land.
                    if ifMatch != nil { throw KVError.conditionFailed(key) }
                    lost = nil
                default:
                    throw KVError.outcomeUnknown(key, ObjectStoreError(.outcomeUnknown, "the key changed while a delete's answer was lost"))
                }
            }
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
            } catch let error as ObjectStoreError where error.code == .outcomeUnknown {
                self.cache.remove(key)
                lost = info
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
    /// conditional on the tag that was checked, which is unique to that write, so a value
    /// written since, even with the same bytes, is never touched.
    ///
    /// - Returns: whether a value was deleted.
    /// - Throws: when the backend fails or loses the answer, so the sweeper keeps the index
    ///   entry and tries again on its next pass.
    func reclaim(_ key: Key, expiredAt expiresAt: UnixMilliseconds) async throws -> Bool {
        try await self.locked(key) { try await self.reclaimLocked(key, expiredAt: expiresAt) }
    }

    private func reclaimLocked(_ key: Key, expiredAt expiresAt: UnixMilliseconds) async throws -> Bool {
        let base = try await self.readCurrent(key, withValue: self.history.isEnabled, now: self.clock.wallTime())
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

    /// Runs `body` holding `key`'s write lock; a full queue or a deadline passing while waiting
    /// is answered as the domain's error, with nothing written.
    func locked<Result: Sendable>(_ key: Key, _ body: () async throws -> Result) async throws -> Result {
        do {
            return try await self.writeLocks.withLock(key, body)
        } catch KeyLocks.Refusal.queueFull {
            throw KVError.overloaded(key)
        } catch KeyLocks.Refusal.deadlinePassed {
            throw KVError.timedOut(key)
        }
    }

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

    /// Throws `conditionFailed` unless `precondition` holds against `current`; shared by the
    /// buffered and the streaming writer so both judge a condition the same way.
    static func check(_ precondition: WritePrecondition, against current: Current, key: Key) throws {
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
            if self.streamsLargeValues { return try await self.archiveByCopy(current) }
            let fresh = try await self.readCurrent(info.key, withValue: true, now: self.clock.wallTime())
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
    func pruneHistory(_ key: Key, archived version: Int64) async {
        guard self.history.isEnabled else { return }
        do {
            try await self.history.prune(key, newestArchived: version)
        } catch {
            self.logger.warning("could not prune the history of a key", metadata: ["key": "\(key)", "error": "\(error)"])
        }
    }
}
