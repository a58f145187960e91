import Logging
import NIOCore
import ObjectStore

/// The key-value domain over an ``ObjectStore``: maps keys to objects, carries content types
/// and conditions, and turns backend answers into the store's semantics.
///
/// It holds no state of its own beyond configuration, so any number of instances may share one
/// backend. Every error it throws is a ``KVError``.
public struct KeyValueStore: Sendable {
    /// The content type of values written without one.
    public static let defaultContentType = "application/octet-stream"

    private let objects: any ObjectStore

    public init(objects: any ObjectStore) {
        self.objects = objects
    }

    /// Stores `value` under `key`, replacing the current value when `condition` allows it.
    /// An unconditional write is exactly one backend request.
    ///
    /// - Parameter condition: `.ifMatch(etag)` compares and swaps; `.ifNoneExists` only creates.
    /// - Throws: `.conditionFailed` when the condition does not hold, including `.ifMatch` on a
    ///   missing key, so clients get one answer for "not what you saw".
    public func put(
        _ key: Key,
        value: ByteBuffer,
        contentType: String? = nil,
        condition: WriteCondition = .none
    ) async throws -> WriteReceipt {
        let options = PutOptions(contentType: contentType ?? Self.defaultContentType, condition: condition)
        let etag = try await self.perform(on: key, notFound: .conditionFailed(key)) {
            try await self.objects.put(BucketLayout.valueObject(for: key), body: value, options: options)
        }
        return WriteReceipt(key: key, size: value.readableBytes, etag: etag)
    }

    /// Stores `value` only if `key` currently exists, whatever its tag (`If-Match: *`).
    public func putIfExists(_ key: Key, value: ByteBuffer, contentType: String? = nil) async throws -> WriteReceipt {
        let current = try await self.perform(on: key, notFound: .conditionFailed(key)) {
            try await self.objects.head(BucketLayout.valueObject(for: key), ifNoneMatch: nil)
        }
        return try await self.put(key, value: value, contentType: contentType, condition: .ifMatch(current.etag))
    }

    /// Reads a value.
    ///
    /// - Throws: `.notFound` when missing; `.notModified` when `ifNoneMatch` matches.
    public func get(_ key: Key, ifNoneMatch: ETagMatch? = nil) async throws -> Entry {
        let object = try await self.perform(on: key) {
            try await self.objects.get(BucketLayout.valueObject(for: key), ifNoneMatch: ifNoneMatch)
        }
        return Entry(info: EntryInfo(key: key, object: object.info), value: object.body)
    }

    /// Reads a value's attributes. Same errors as ``get(_:ifNoneMatch:)``.
    public func head(_ key: Key, ifNoneMatch: ETagMatch? = nil) async throws -> EntryInfo {
        let object = try await self.perform(on: key) {
            try await self.objects.head(BucketLayout.valueObject(for: key), ifNoneMatch: ifNoneMatch)
        }
        return EntryInfo(key: key, object: object)
    }

    /// Deletes a value.
    ///
    /// Object stores report success for deleting a missing object; the key-value API answers
    /// "not found" instead, so the current value is looked up first (two backend requests).
    ///
    /// - Parameter ifMatch: delete only if the current value has this tag.
    /// - Throws: `.notFound` when missing; `.conditionFailed` when `ifMatch` does not match.
    public func delete(_ key: Key, ifMatch: ETag? = nil) async throws {
        let current = try await self.head(key)
        if let ifMatch, ifMatch != current.etag {
            throw KVError.conditionFailed(key)
        }
        // Without ifMatch a concurrent delete in between is harmless: the key is gone either way.
        try await self.perform(on: key, notFound: .conditionFailed(key)) {
            try await self.objects.delete(BucketLayout.valueObject(for: key), ifMatch: ifMatch)
        }
    }

    /// Runs a backend operation on `key`, translating its errors into ``KVError``.
    private func perform<Result>(
        on key: Key,
        notFound: KVError? = nil,
        _ operation: () async throws -> Result
    ) async throws -> Result {
        do {
            return try await operation()
        } catch {
            if let notFound, (error as? ObjectStoreError)?.code == .notFound { throw notFound }
            throw KVError.from(error, key: key)
        }
    }
}
