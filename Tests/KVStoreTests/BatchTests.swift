import Foundation
import KVStore
import NIOCore
import LocalStores
import ObjectStore
import TestSupport
import Testing

/// Batch writes and deletes on every backend.
@Suite struct BatchTests {
    struct InjectedFailure: Error {}

    @Test("putMany writes every item with bounded parallelism; a failed item fails alone", arguments: TestBackend.all)
    func writes(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let recording = TestObjectStore(objects)
            recording.beforeEach { operation in
                if operation.hasPrefix("put kv/item-13") { throw ObjectStoreError(.unavailable, "injected") }
            }
            let store = KeyValueStore(objects: recording)
            let items = try (0..<40).map { BatchWrite(key: try Key("item-\($0)"), value: bytes("value \($0)")) }
            let results = await store.putMany(items, concurrency: 8)
            #expect(results.count == 40)
            for (index, result) in results.enumerated() {
                switch result {
                case .success(let receipt):
                    #expect(index != 13 && receipt.key.rawValue == "item-\(index)" && receipt.version == 1)
                case .failure(let error):
                    #expect(index == 13 && (error as? KVError)?.code == .backendUnavailable)
                }
            }
            recording.beforeEach(nil)
            let listed = try await store.list(KeyListQuery(limit: 1000)).entries.map(\.key.rawValue)
            #expect(listed.count == 39 && !listed.contains("item-13"))
        }
    }

    @Test("deleteMany uses one DeleteObjects per 1,000 keys; missing keys count as deleted", arguments: TestBackend.all)
    func deletes(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let recording = TestObjectStore(objects)
            // Reads past the staleness bound wait for their revalidation, so none runs behind the count.
            let store = KeyValueStore(objects: recording, configuration: KVStoreConfiguration(cache: .init(staleWhileRevalidate: .zero)))
            let keys = try (0..<1500).map { try Key(String(format: "k%04d", $0)) }
            let written = await store.putMany(keys.filter { $0.rawValue.hasSuffix("0") }.map { BatchWrite(key: $0, value: bytes("v")) }, concurrency: 16)
            #expect(written.allSatisfy { if case .success = $0 { true } else { false } })
            _ = try await store.get(try Key("k0010"))  // cached; the batch delete must drop it

            recording.reset()
            let outcomes = await store.deleteMany(keys, concurrency: 4)
            #expect(outcomes == Array(repeating: .deleted, count: 1500))
            #expect(recording.operations.sorted() == ["deleteMany 1000", "deleteMany 500"])
            await expectCode(.notFound) { try await store.get(try Key("k0010")) }
            #expect(try await store.list(KeyListQuery()).entries.isEmpty)
        }
    }

    @Test("with history, deleteMany archives each deleted version")
    func deletesWithHistory() async throws {
        let store = KeyValueStore(objects: MemoryObjectStore(), configuration: KVStoreConfiguration(versionHistory: 2))
        let key = try Key("kept")
        _ = try await store.put(key, value: bytes("one"))
        #expect(await store.deleteMany([key, try Key("never")], concurrency: 2) == [.deleted, .deleted])
        await expectCode(.notFound) { try await store.get(key) }
        #expect(try await store.get(key, version: 1).text == "one")
    }

    @Test("a DeleteObjects call that fails marks every key of its chunk failed", arguments: TestBackend.all)
    func deleteFailure(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let recording = TestObjectStore(objects)
            recording.beforeEach { operation in
                if operation.hasPrefix("deleteMany") { throw ObjectStoreError(.unavailable, "injected") }
            }
            let store = KeyValueStore(objects: recording)
            let outcomes = await store.deleteMany([try Key("a"), try Key("b")], concurrency: 1)
            #expect(outcomes.count == 2)
            #expect(outcomes.allSatisfy { if case .failed(let error) = $0 { error.code == .backendUnavailable } else { false } })
        }
    }
}
