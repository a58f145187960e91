public import ObjectStore
public import Foundation
public import NIOCore
import Synchronization

/// An ``ObjectStore`` held in process memory: for tests and for `KV_STORAGE=memory`.
///
/// Nothing survives the process. Operations are linearizable: each runs under one lock. Objects
/// are keyed by ``ObjectName``, so names that differ in their bytes are different objects even
/// when Swift would call their text equal.
public final class MemoryObjectStore: ObjectStore {
    /// The largest object kept: a body is one contiguous buffer, whose size NIO caps below 4 GiB.
    public static let maximumObjectBytes = 1 << 31

    private struct Entry {
        var info: ObjectInfo
        var body: ByteBuffer
    }

    private struct State {
        var entries: [ObjectName: Entry] = [:]
        /// Names in ascending byte order, for listings.
        var sortedNames: [ObjectName] = []

        /// Index of the first name not less than `name`.
        func lowerBound(_ name: [UInt8]) -> Int {
            var low = 0
            var high = self.sortedNames.count
            while low < high {
                let middle = (low + high) / 2
                if self.sortedNames[middle].utf8.lexicographicallyPrecedes(name) { low = middle + 1 } else { high = middle }
            }
            return low
        }

        mutating func insert(_ name: ObjectName, _ entry: Entry) {
            if self.entries.updateValue(entry, forKey: name) == nil {
                self.sortedNames.insert(name, at: self.lowerBound(Array(name.utf8)))
            }
        }

        mutating func remove(_ name: ObjectName) {
            guard self.entries.removeValue(forKey: name) != nil else { return }
            let index = self.lowerBound(Array(name.utf8))
            precondition(index < self.sortedNames.count && self.sortedNames[index] == name, "the name index lost \(name)")
            self.sortedNames.remove(at: index)
        }
    }

    private let state = Mutex(State())
    private let now: @Sendable () -> Date
    public let limits: ObjectStoreLimits

    /// - Parameters:
    ///   - now: the clock that stamps `lastModified`; injected so tests are exact.
    ///   - limits: what the store accepts; tests lower it to exercise the layers above.
    public init(
        now: @escaping @Sendable () -> Date = Date.init,
        limits: ObjectStoreLimits = ObjectStoreLimits(maximumObjectBytes: MemoryObjectStore.maximumObjectBytes, acceptsEntityTags: true)
    ) {
        self.now = now
        self.limits = limits
    }

    public func put(_ name: ObjectName, body: ByteBuffer, options: PutOptions) async throws -> ETag {
        try LocalRules.checkPut(name, options: options)
        try LocalRules.checkSize(body.readableBytes, limits: self.limits)
        let etag = options.entityTag ?? ETag.md5(of: body.readableBytesView)
        let info = ObjectInfo(
            name: name, size: body.readableBytes, etag: etag,
            lastModified: LocalRules.truncatedToMilliseconds(self.now()),
            contentType: options.contentType, metadata: options.metadata
        )
        // A copy of exactly the body's bytes: the caller's buffer may be a slice of a larger one.
        let stored = ByteBuffer(bytes: body.readableBytesView)
        try self.state.withLock { state in
            try LocalRules.checkWrite(options.condition, current: state.entries[name]?.info.etag, key: name)
            state.insert(name, Entry(info: info, body: stored))
        }
        return etag
    }

    public func get(_ name: ObjectName, ifNoneMatch: ETagMatch?) async throws -> StoredObject {
        let entry = try self.entry(name, ifNoneMatch: ifNoneMatch)
        return StoredObject(info: entry.info, body: entry.body)
    }

    public func head(_ name: ObjectName, ifNoneMatch: ETagMatch?) async throws -> ObjectInfo {
        try self.entry(name, ifNoneMatch: ifNoneMatch).info
    }

    private func entry(_ name: ObjectName, ifNoneMatch: ETagMatch?) throws -> Entry {
        guard let entry = self.state.withLock({ $0.entries[name] }) else { throw ObjectStoreError.notFound(name) }
        try LocalRules.checkRead(ifNoneMatch, current: entry.info.etag, key: name)
        return entry
    }

    public func delete(_ name: ObjectName, ifMatch: ETag?) async throws {
        try self.state.withLock { state in
            if let ifMatch {
                try LocalRules.checkWrite(.ifMatch(ifMatch), current: state.entries[name]?.info.etag, key: name)
            }
            state.remove(name)
        }
    }

    public func copy(from source: ObjectName, to destination: ObjectName, options: CopyOptions) async throws -> ETag {
        try LocalRules.checkCopy(to: destination, options: options)
        let lastModified = LocalRules.truncatedToMilliseconds(self.now())
        return try self.state.withLock { state in
            guard var entry = state.entries[source] else { throw ObjectStoreError.notFound(source) }
            if let expected = options.sourceIfMatch, expected != entry.info.etag {
                throw ObjectStoreError.preconditionFailed(source)
            }
            entry.info.name = destination
            entry.info.lastModified = lastModified
            if let replacing = options.replacing {
                entry.info.contentType = replacing.contentType
                entry.info.metadata = replacing.metadata
            }
            state.insert(destination, entry)
            return entry.info.etag
        }
    }

    public func list(_ request: ListRequest) async throws -> ListPage {
        try self.state.withLock { state in
            try LocalListing.page(request) { from, until, limit in
                var index = state.lowerBound(from.key)
                if !from.inclusive, index < state.sortedNames.count, state.sortedNames[index].utf8.elementsEqual(from.key) { index += 1 }
                var summaries: [ObjectSummary] = []
                while index < state.sortedNames.count, summaries.count < limit {
                    let name = state.sortedNames[index]
                    if let until, !name.utf8.lexicographicallyPrecedes(until) { break }
                    let info = state.entries[name]!.info
                    summaries.append(ObjectSummary(name: info.name, size: info.size, etag: info.etag, lastModified: info.lastModified))
                    index += 1
                }
                return summaries
            }
        }
    }

    /// Always ready: the objects live in this process.
    public func probe() async throws {}

    public func deleteMany(_ names: [ObjectName]) async throws -> DeleteManyResult {
        try ObjectLimits.checkDeleteMany(names)
        self.state.withLock { state in
            for name in names { state.remove(name) }
        }
        return DeleteManyResult(deleted: names)
    }
}
