import Foundation
import NIOCore
public import ObjectStore
import Synchronization

/// A value read as a stream: all of it or a range of it.
public struct StreamedEntry: Sendable {
    public var info: EntryInfo
    /// The value's bytes, or the bytes of ``range``.
    public var body: ObjectBody
    /// The range of the value the body holds; nil for the whole value.
    public var range: ByteRange?

    public init(info: EntryInfo, body: ObjectBody, range: ByteRange?) {
        self.info = info
        self.body = body
        self.range = range
    }
}

extension KeyValueStore {
    /// Whether the backend moves large bodies as streams in bounded memory, so large values
    /// should be streamed rather than buffered.
    public var streamsLargeValues: Bool { self.objects.limits.streamsBodies }

    /// The largest value read whole and cached; larger ones stream, where the backend streams.
    public var bufferedValueLimit: Int { self.cache.configuration.maxValueBytes }

    /// The memory one streamed write holds at most (in the backend's buffers), for a server to
    /// reserve before it starts one.
    public var streamBufferBytes: Int { self.objects.limits.streamBufferBytes }

    /// Stores a value that arrives as a stream, in bounded memory: its bytes go to the backend
    /// as they arrive (in parts, on S3), followed by the write's id.
    ///
    /// Conditions and version numbers are as for ``put(_:value:contentType:precondition:ttl:)``,
    /// with one difference: the body is read once, so a write that loses a race to another
    /// writer cannot be sent again. The current value is read first (and archived, with history
    /// on, by a server-side copy that never passes through memory); a writer that still loses is
    /// answered `.conflict` (nothing written, retry) or, for the client's own `If-Match`,
    /// `.conditionFailed`.
    ///
    /// - Parameter size: counts the bytes as they pass, for a body of unknown length.
    public func put(
        _ key: Key,
        streaming value: ObjectBody,
        contentType: String? = nil,
        precondition: WritePrecondition = .none,
        ttl: TimeToLive? = nil
    ) async throws -> WriteReceipt {
        if let buffer = value.buffer {
            return try await self.put(key, value: buffer, contentType: contentType, precondition: precondition, ttl: ttl)
        }
        return try await self.locked(key) {
            try await self.writeStream(key, value: value, contentType: contentType, precondition: precondition, ttl: ttl)
        }
    }

    private func writeStream(
        _ key: Key, value: ObjectBody, contentType: String?, precondition: WritePrecondition, ttl: TimeToLive?
    ) async throws -> WriteReceipt {
        let now = self.clock.wallTime()
        let (contentType, expiresAt) = try await self.prepareWrite(key, contentType: contentType, ttl: ttl, now: now)
        let name = BucketLayout.valueObject(for: key)
        // The body is read once: settle what it replaces (and archive that) before sending it.
        var base: Current = .absent
        var settled = false
        for attempt in 0..<Self.maximumWriteAttempts where !settled {
            if attempt > 0 { try await Task.sleep(for: .milliseconds(Int.random(in: 1...(4 << min(attempt, 6))))) }
            base = try await self.readCurrent(key, withValue: false, now: now)
            try Self.check(precondition, against: base, key: key)
            settled = try await self.archiveByCopy(base)
        }
        guard settled else { throw KVError.conflict(key, attempts: Self.maximumWriteAttempts) }

        let version: Int64
        let condition: WriteCondition
        if let replaced = base.info {
            (version, condition) = (replaced.version + 1, .ifMatch(replaced.etag))
        } else {
            (version, condition) = (try await self.perform(on: key) { try await self.history.nextVersionForAbsentKey(key) }, .ifNoneExists)
        }
        let writeID = WriteID()
        let metadata = EntryMetadata(
            version: version, expiresAt: expiresAt, createdAt: UnixMilliseconds(now), writeID: writeID, replaces: base.info?.writeID
        )
        // A small body of unknown length is copied aside as it passes, for the cache.
        let counter = ByteCounter(keepingUpTo: value.length == nil ? self.bufferedValueLimit : 0)
        let body = ObjectBody(counter.counting(value), length: value.length).appending(ByteBuffer(bytes: writeID.bytes))
        let options = PutOptions(
            contentType: contentType, metadata: metadata.objectMetadata, condition: condition,
            entityTag: self.objects.limits.acceptsEntityTags ? writeID.entityTag : nil
        )
        let sent = self.clock.monotonic()
        var etag: ETag?
        do {
            etag = try await self.objects.put(name, streaming: body, options: options)
        } catch let error as ObjectStoreError where error.code == .preconditionFailed || error.code == .notFound {
            self.cache.remove(key)
            if case .ifMatch = precondition { throw KVError.conditionFailed(key) }
            throw KVError.conflict(key, attempts: 1)
        } catch let error as ObjectStoreError where error.code == .outcomeUnknown {
            self.cache.remove(key)
            switch try await self.resolve(key, attempts: [writeID], version: version, base: base) {
            case .applied(let found, _):
                etag = found
            case .notApplied:
                throw KVError(.backendUnavailable, "the storage backend did not take the value; nothing was written, retry", detail: "\(error)")
            case .unknown:
                throw KVError.outcomeUnknown(key, error)
            }
        } catch {
            throw KVError.from(error, key: key)
        }
        let size = value.length ?? counter.count
        if let etag {
            var info = EntryInfo(
                key: key, size: size, etag: etag, lastModified: UnixMilliseconds(now).date, contentType: contentType, version: version,
                expiresAt: expiresAt
            )
            (info.writeID, info.replaces) = (writeID, base.info?.writeID)
            // Too large to keep, the cache remembers its attributes only.
            self.cache.store(info, value: counter.kept, confirmedAt: sent)
        }
        if let replaced = base.info { await self.pruneHistory(key, archived: replaced.version) }
        return WriteReceipt(key: key, size: size, etag: etag, version: version, expiresAt: expiresAt)
    }

    /// With history on, copies the version `current` holds to its archive name server-side, and
    /// checks the copy is that very write (some backends ignore the copy's source condition).
    /// - Returns: false when the key changed meanwhile, so the caller reads it again.
    func archiveByCopy(_ current: Current) async throws -> Bool {
        guard self.history.isEnabled, let info = current.info else { return true }
        let archive = BucketLayout.versionObject(for: info.key, version: info.version)
        return try await self.perform(on: info.key) {
            do {
                let size = ValueEncoding.objectSize(valueSize: info.size, writeID: info.writeID)
                _ = try await self.objects.copy(
                    from: BucketLayout.valueObject(for: info.key), to: archive, options: CopyOptions(sourceIfMatch: info.etag, sourceSize: size)
                )
            } catch let error as ObjectStoreError where error.code == .preconditionFailed || error.code == .notFound {
                return false
            }
            let copied = try await self.objects.head(archive, ifNoneMatch: nil)
            return EntryMetadata(copied.metadata).writeID == info.writeID
        }
    }

    /// Reads a value as a stream, all of it or `range` of it, in bounded memory: a value the
    /// cache holds comes from memory; a large one streams from the backend at the reader's pace.
    ///
    /// - Throws: `.notFound` when missing or expired; `.rangeNotSatisfiable` when the range holds
    ///   none of the value.
    public func stream(_ key: Key, range: RequestedRange?) async throws -> StreamedEntry {
        for _ in 0..<3 {
            let info = try await self.head(key)
            let resolved: ByteRange?
            if let range {
                guard let found = range.resolved(size: info.size) else {
                    throw KVError(.rangeNotSatisfiable, "the range holds none of the \(info.size) bytes of key '\(key)'")
                }
                resolved = found
            } else {
                resolved = nil
            }
            // Small values go through the cache, as a plain GET does.
            if info.size <= self.cache.configuration.maxValueBytes || !self.streamsLargeValues {
                let entry = try await self.get(key)
                guard let resolved else { return StreamedEntry(info: entry.info, body: .buffered(entry.value), range: nil) }
                let slice = entry.value.getSlice(at: entry.value.readerIndex + resolved.first, length: resolved.count)!
                return StreamedEntry(info: entry.info, body: .buffered(slice), range: resolved)
            }
            // The value's bytes only: the write id that follows them stays on the backend.
            let wanted = resolved ?? ByteRange(first: 0, last: info.size - 1)
            let object = try await self.perform(on: key) {
                try await self.objects.stream(BucketLayout.valueObject(for: key), ifNoneMatch: nil, range: wanted)
            }
            // A write between the attributes and the read: read both again.
            guard object.info.etag == info.etag else { continue }
            return StreamedEntry(info: info, body: object.body, range: resolved)
        }
        throw KVError.conflict(key, attempts: 3)
    }
}

/// Counts the bytes of a body as they pass, for a body of unknown length, and keeps a copy of
/// them while they number at most `keepingUpTo`.
final class ByteCounter: Sendable {
    private struct State {
        var count = 0
        var copy: ByteBuffer? = ByteBuffer()
    }
    private let state = Mutex(State())
    private let limit: Int

    init(keepingUpTo limit: Int) {
        self.limit = limit
    }

    var count: Int { self.state.withLock { $0.count } }

    /// All the bytes that passed, when there were no more than the limit.
    var kept: ByteBuffer? { self.state.withLock { $0.copy } }

    func counting(_ body: ObjectBody) -> AsyncThrowingMapSequence<ObjectBody, ByteBuffer> {
        let limit = self.limit
        return body.map { chunk in
            self.state.withLock { state in
                state.count += chunk.readableBytes
                if state.count <= limit { state.copy?.writeImmutableBuffer(chunk) } else { state.copy = nil }
            }
            return chunk
        }
    }
}

/// A value opened for reading: in memory when small (and then cached), or a stream.
public enum OpenedEntry: Sendable {
    case buffered(Entry)
    case streamed(StreamedEntry)
}

extension KeyValueStore {
    /// Reads the current value in one backend request at most: a small value whole (cached, as
    /// ``get(_:ifNoneMatch:fresh:)`` does), a large one as a stream of its bytes, so its size
    /// never has to fit in memory. On a backend that does not stream, the same as `get`.
    public func open(_ key: Key, ifNoneMatch: ETagMatch? = nil, fresh: Bool = false) async throws -> OpenedEntry {
        guard self.streamsLargeValues else { return .buffered(try await self.get(key, ifNoneMatch: ifNoneMatch, fresh: fresh)) }
        let now = self.clock.wallTime()
        let instant = self.clock.monotonic()
        let cached = self.cache.entry(for: key, now: now)
        // What the cache serves, or revalidates with the value in hand, goes the usual way.
        if let cached, cached.value != nil { return .buffered(try await self.get(key, ifNoneMatch: ifNoneMatch, fresh: fresh)) }
        let name = BucketLayout.valueObject(for: key)
        let object: StreamedObject
        do {
            object = try await self.objects.stream(name, ifNoneMatch: ifNoneMatch, range: nil)
        } catch let error as ObjectStoreError where error.code == .notModified {
            // Only the attributes tell whether the matching value has expired.
            return .buffered(try await self.get(key, ifNoneMatch: ifNoneMatch, fresh: true))
        } catch let error as ObjectStoreError where error.code == .notFound {
            self.cache.remove(key)
            throw KVError.notFound(key)
        } catch {
            throw KVError.from(error, key: key)
        }
        let info = EntryInfo(key: key, object: object.info)
        if info.metadata.isExpired(at: UnixMilliseconds(now)) {
            self.cache.remove(key)
            throw KVError.notFound(key)
        }
        if ifNoneMatch?.matches(info.etag) == true { throw KVError.notModified(key) }
        let opened = try await self.opened(object, key: key, name: name)
        if case .buffered(let entry) = opened {
            self.cache.store(info, value: entry.value, confirmedAt: instant)
        } else {
            self.cache.store(info, value: nil, confirmedAt: instant)
        }
        return opened
    }

    /// Reads `version` of `key` as ``open(_:ifNoneMatch:fresh:)`` reads the current value: a small
    /// one whole, a large one as a stream. On a backend that does not stream, the same as
    /// ``get(_:version:)``.
    ///
    /// - Throws: `.versionNotFound` when the key never had that version, it expired or it was
    ///   pruned from history.
    public func open(_ key: Key, version: Int64) async throws -> OpenedEntry {
        guard self.streamsLargeValues else { return .buffered(try await self.get(key, version: version)) }
        do {
            let known = try await self.head(key).version
            // A version past the one this instance knows may have been written elsewhere since:
            // then the backend is asked rather than a cache that is behind.
            if known <= version {
                let opened = try await self.open(key, fresh: known < version)
                // Replaced between the two reads: the version is in history by now.
                if opened.info.version == version { return opened }
            }
        } catch let error as KVError where error.code == .notFound {
            // Deleted keys keep their history.
        }
        guard version > 0 else { throw KVError.versionNotFound(key, version) }
        let name = BucketLayout.versionObject(for: key, version: version)
        let object: StreamedObject
        do {
            object = try await self.perform(on: key) { try await self.objects.stream(name, ifNoneMatch: nil, range: nil) }
        } catch let error as KVError where error.code == .notFound {
            throw KVError.versionNotFound(key, version)
        }
        guard !EntryMetadata(object.info.metadata).isExpired(at: UnixMilliseconds(self.clock.wallTime())) else {
            throw KVError.versionNotFound(key, version)
        }
        return try await self.opened(object, key: key, name: name)
    }

    /// A read object as an entry: collected and decoded when the cache would keep it, otherwise
    /// a stream of the value's bytes without the write id that ends them.
    private func opened(_ object: StreamedObject, key: Key, name: ObjectName) async throws -> OpenedEntry {
        let metadata = EntryMetadata(object.info.metadata)
        let info = EntryInfo(key: key, object: object.info)
        if info.size <= self.cache.configuration.maxValueBytes {
            let body = try await self.perform(on: key) { try await object.body.collect(upTo: object.info.size) }
            return .buffered(Entry(info: info, value: try ValueEncoding.value(of: body, metadata: metadata, name: name)))
        }
        let body = ValueEncoding.valueStream(of: object.body, writeID: metadata.writeID, valueSize: info.size)
        return .streamed(StreamedEntry(info: info, body: body, range: nil))
    }
}

extension OpenedEntry {
    /// The value's attributes, whichever way it was opened.
    public var info: EntryInfo {
        switch self {
        case .buffered(let entry): entry.info
        case .streamed(let streamed): streamed.info
        }
    }
}
