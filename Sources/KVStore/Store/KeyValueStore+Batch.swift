public import NIOCore
import ObjectStore

/// One write of a batch.
public struct BatchWrite: Sendable {
    public var key: Key
    public var value: ByteBuffer
    public var contentType: String?
    public var ttl: TimeToLive?

    public init(key: Key, value: ByteBuffer, contentType: String? = nil, ttl: TimeToLive? = nil) {
        self.key = key
        self.value = value
        self.contentType = contentType
        self.ttl = ttl
    }
}

/// What a batch delete did with one key.
public enum BatchDeleteOutcome: Sendable, Equatable {
    /// The key holds no value now (it may have held none before).
    case deleted
    /// The key was not deleted; the error says why.
    case failed(KVError)
}

extension KeyValueStore {
    /// The most items one batch may hold.
    public static let maximumBatchItems = 10_000

    /// Writes every item, at most `concurrency` at a time, each exactly as ``put(_:value:contentType:precondition:ttl:)``
    /// would. Not atomic: each item succeeds or fails on its own.
    ///
    /// - Returns: each item's receipt or error (a ``KVError``), in the order given.
    public func putMany(_ items: [BatchWrite], concurrency: Int) async -> [Result<WriteReceipt, any Error>] {
        await Self.forEach(items, concurrency: concurrency) { item in
            do {
                return .success(try await self.put(item.key, value: item.value, contentType: item.contentType, ttl: item.ttl))
            } catch {
                return .failure(error)
            }
        }
    }

    /// Deletes every key; deleting a key that holds no value succeeds, as in S3's DeleteObjects.
    ///
    /// Without a version history this is one DeleteObjects request per 1,000 keys, at most
    /// `concurrency` at a time. With history, each deleted version must be archived first, so
    /// keys are deleted one by one, at most `concurrency` at a time. Not atomic.
    ///
    /// - Returns: each key's outcome, in the order given.
    public func deleteMany(_ keys: [Key], concurrency: Int) async -> [BatchDeleteOutcome] {
        if self.history.isEnabled {
            return await Self.forEach(keys, concurrency: concurrency) { key in
                do {
                    try await self.delete(key)
                    return .deleted
                } catch let error as KVError where error.code == .notFound {
                    return .deleted
                } catch {
                    return Self.failure(error)
                }
            }
        }
        let chunks = stride(from: 0, to: keys.count, by: DeleteManyResult.maximumKeys).map {
            Array(keys[$0..<min($0 + DeleteManyResult.maximumKeys, keys.count)])
        }
        let results = await Self.forEach(chunks, concurrency: concurrency) { chunk in
            do {
                let result = try await self.objects.deleteMany(chunk.map(BucketLayout.valueObject(for:)))
                let failures = Dictionary(result.failed.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
                return chunk.map { key -> BatchDeleteOutcome in
                    guard let failure = failures[BucketLayout.valueObject(for: key)] else { return .deleted }
                    return .failed(
                        KVError(.backendFailure, "the storage backend did not delete key '\(key)'", detail: "\(failure.code): \(failure.message)")
                    )
                }
            } catch {
                return Array(repeating: Self.failure(KVError.from(error)), count: chunk.count)
            }
        }
        for (key, outcome) in zip(keys, results.joined()) where outcome == .deleted {
            self.cache.remove(key)
        }
        return Array(results.joined())
    }

    private static func failure(_ error: any Error) -> BatchDeleteOutcome {
        if let error = error as? KVError { return .failed(error) }
        return .failed(KVError(.backendFailure, "the storage backend failed the request", detail: "\(error)"))
    }

    /// Runs `body` on every element, at most `concurrency` at a time; results in element order.
    static func forEach<Element: Sendable, Result: Sendable>(
        _ elements: [Element],
        concurrency: Int,
        _ body: @escaping @Sendable (Element) async -> Result
    ) async -> [Result] {
        await withTaskGroup(of: (Int, Result).self) { group in
            var results = [Result?](repeating: nil, count: elements.count)
            var next = elements.indices.makeIterator()
            func addNext() {
                guard let index = next.next() else { return }
                let element = elements[index]
                group.addTask { (index, await body(element)) }
            }
            for _ in 0..<max(concurrency, 1) { addNext() }
            while let (index, result) = await group.next() {
                results[index] = result
                addNext()
            }
            return results.map { $0! }
        }
    }
}
