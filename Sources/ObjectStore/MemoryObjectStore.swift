import Foundation
import NIOCore
import Synchronization

/// An ``ObjectStore`` held in process memory: for tests and for `KV_STORAGE=memory`.
///
/// Nothing survives the process. Operations are linearizable: each runs under one lock.
public final class MemoryObjectStore: ObjectStore {
    private struct Entry {
        var info: ObjectInfo
        var body: ByteBuffer
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Keys as UTF-8 bytes in ascending order, for listings.
        var sortedKeys: [[UInt8]] = []

        /// Index of the first key not less than `key`.
        func lowerBound(_ key: [UInt8]) -> Int {
            var low = 0
            var high = self.sortedKeys.count
            while low < high {
                let middle = (low + high) / 2
                if self.sortedKeys[middle].lexicographicallyPrecedes(key) { low = middle + 1 } else { high = middle }
            }
            return low
        }

        mutating func insert(_ key: String, _ entry: Entry) {
            if self.entries.updateValue(entry, forKey: key) == nil {
                let bytes = Array(key.utf8)
                self.sortedKeys.insert(bytes, at: self.lowerBound(bytes))
            }
        }

        mutating func remove(_ key: String) {
            if self.entries.removeValue(forKey: key) != nil {
                self.sortedKeys.remove(at: self.lowerBound(Array(key.utf8)))
            }
        }
    }

    private let state = Mutex(State())
    private let now: @Sendable () -> Date

    /// - Parameter now: the clock that stamps `lastModified`; injected so tests are exact.
    public init(now: @escaping @Sendable () -> Date = Date.init) {
        self.now = now
    }

    public func put(_ key: String, body: ByteBuffer, options: PutOptions) async throws -> ETag {
        try LocalRules.checkKey(key)
        try ObjectLimits.checkMetadata(options.metadata)
        let etag = ETag.md5(of: body.readableBytesView)
        let info = ObjectInfo(
            key: key, size: body.readableBytes, etag: etag,
            lastModified: LocalRules.truncatedToMilliseconds(self.now()),
            contentType: options.contentType, metadata: options.metadata
        )
        try self.state.withLock { state in
            try LocalRules.checkWrite(options.condition, current: state.entries[key]?.info.etag, key: key)
            state.insert(key, Entry(info: info, body: body))
        }
        return etag
    }

    public func get(_ key: String, ifNoneMatch: ETagMatch?) async throws -> StoredObject {
        let entry = try self.entry(key, ifNoneMatch: ifNoneMatch)
        return StoredObject(info: entry.info, body: entry.body)
    }

    public func head(_ key: String, ifNoneMatch: ETagMatch?) async throws -> ObjectInfo {
        try self.entry(key, ifNoneMatch: ifNoneMatch).info
    }

    private func entry(_ key: String, ifNoneMatch: ETagMatch?) throws -> Entry {
        guard let entry = self.state.withLock({ $0.entries[key] }) else { throw ObjectStoreError.notFound(key) }
        try LocalRules.checkRead(ifNoneMatch, current: entry.info.etag, key: key)
        return entry
    }

    public func delete(_ key: String, ifMatch: ETag?) async throws {
        try self.state.withLock { state in
            if let ifMatch {
                try LocalRules.checkWrite(.ifMatch(ifMatch), current: state.entries[key]?.info.etag, key: key)
            }
            state.remove(key)
        }
    }

    public func copy(from source: String, to destination: String, options: CopyOptions) async throws -> ETag {
        try LocalRules.checkKey(destination)
        if let replacing = options.replacing { try ObjectLimits.checkMetadata(replacing.metadata) }
        let lastModified = LocalRules.truncatedToMilliseconds(self.now())
        return try self.state.withLock { state in
            guard var entry = state.entries[source] else { throw ObjectStoreError.notFound(source) }
            if let expected = options.sourceIfMatch, expected != entry.info.etag {
                throw ObjectStoreError.preconditionFailed(source)
            }
            entry.info.key = destination
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
                if !from.inclusive, index < state.sortedKeys.count, state.sortedKeys[index] == from.key { index += 1 }
                var summaries: [ObjectSummary] = []
                while index < state.sortedKeys.count, summaries.count < limit {
                    let key = state.sortedKeys[index]
                    if let until, !key.lexicographicallyPrecedes(until) { break }
                    let info = state.entries[String(decoding: key, as: UTF8.self)]!.info
                    summaries.append(ObjectSummary(key: info.key, size: info.size, etag: info.etag, lastModified: info.lastModified))
                    index += 1
                }
                return summaries
            }
        }
    }

    /// Always ready: the objects live in this process.
    public func probe() async throws {}

    public func deleteMany(_ keys: [String]) async throws -> DeleteManyResult {
        try ObjectLimits.checkDeleteMany(keys)
        self.state.withLock { state in
            for key in keys { state.remove(key) }
        }
        return DeleteManyResult(deleted: keys)
    }
}
