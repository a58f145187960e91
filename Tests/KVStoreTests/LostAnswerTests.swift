import Foundation
import KVStore
import NIOCore
import LocalStores
import ObjectStore
import Synchronization
import TestSupport
import Testing

/// A write whose answer is lost is resolved by reading, never guessed: on every write path the
/// backend applies some conditional writes and then loses their answers (as a timeout or a reset
/// after S3 did the work does), and refuses others without applying them while also calling the
/// outcome unknown. Every acknowledged write must have happened exactly once, and nothing that
/// happened may be answered as a failure.
@Suite struct LostAnswerTests {
    /// How many answers the faults below lost, and how many writes they refused.
    final class FaultCounts: Sendable {
        private let counts = Mutex((lost: 0, refused: 0, seen: 0, attempted: 0))
        var lost: Int { self.counts.withLock { $0.lost } }
        var refused: Int { self.counts.withLock { $0.refused } }

        /// Counts a conditional operation that was applied; true when its answer is to be lost.
        func applied(every: Int) -> Bool {
            self.counts.withLock { counts in
                counts.seen += 1
                guard counts.seen % every == 0 else { return false }
                counts.lost += 1
                return true
            }
        }

        /// Counts a conditional operation about to be sent; true when it is to be refused unapplied.
        func attempted(every: Int) -> Bool {
            self.counts.withLock { counts in
                counts.attempted += 1
                guard counts.attempted % every == 0 else { return false }
                counts.refused += 1
                return true
            }
        }
    }

    /// Makes `objects` lose the answer of every `every`-th conditional write or delete (after
    /// applying it), and refuse every `every + 2`-th before applying it, both reported as
    /// `outcomeUnknown`.
    static func loseAnswers(of objects: TestObjectStore, every: Int = 3) -> FaultCounts {
        let counts = FaultCounts()
        objects.afterEach { operation in
            guard operation.isConditional, counts.applied(every: every) else { return nil }
            return ObjectStoreError(.outcomeUnknown, "injected: the answer was lost after the write was applied")
        }
        objects.beforeEachOperation { operation in
            guard operation.isConditional, counts.attempted(every: every + 2) else { return }
            throw ObjectStoreError(.outcomeUnknown, "injected: no answer, and the write was not applied")
        }
        return counts
    }

    @Test("a compare-and-swap counter ends at the number of increments acknowledged", arguments: TestBackend.all)
    func counterIsExact(_ backend: TestBackend) async throws {
        try await backend.withObjects { base in
            let objects = TestObjectStore(base)
            let store = KeyValueStore(objects: objects, configuration: KVStoreConfiguration(cache: .disabled))
            let key = try Key("counter")
            _ = try await store.put(key, value: bytes("0"))
            let faults = Self.loseAnswers(of: objects)
            var acknowledged = 0
            for _ in 0..<300 where acknowledged < 40 {
                let current = try await store.get(key)
                let next = Int(current.text)! + 1
                do {
                    _ = try await store.put(key, value: bytes("\(next)"), precondition: .ifMatch(current.info.etag))
                    acknowledged += 1
                } catch let error as KVError where error.code == .conditionFailed {
                    Issue.record("a single writer's own increment was answered 412: \(error)")
                }
            }
            objects.afterEach(nil)
            objects.beforeEachOperation(nil)
            #expect(acknowledged == 40)
            #expect(try await store.get(key).text == "\(acknowledged)")
            #expect(faults.lost > 5 && faults.refused > 2, "the faults were injected")
        }
    }

    @Test("create-only writes and new keys: every one acknowledged once, as version 1", arguments: TestBackend.all)
    func creationsAreAcknowledged(_ backend: TestBackend) async throws {
        try await backend.withObjects { base in
            let objects = TestObjectStore(base)
            let store = KeyValueStore(objects: objects)
            let faults = Self.loseAnswers(of: objects)
            for index in 0..<30 {
                let created = try await store.put(try Key("created/\(index)"), value: bytes("c\(index)"), precondition: .ifNoneExists)
                #expect(created.version == 1)
                let plain = try await store.put(try Key("plain/\(index)"), value: bytes("p\(index)"))
                #expect(plain.version == 1, "a new key acknowledged as version \(plain.version)")
            }
            objects.afterEach(nil)
            objects.beforeEachOperation(nil)
            #expect(faults.lost > 5)
            let cold = KeyValueStore(objects: base)
            for index in 0..<30 {
                #expect(try await cold.get(try Key("created/\(index)")).text == "c\(index)")
                #expect(try await cold.get(try Key("plain/\(index)")).info.version == 1)
            }
            // A second create of an existing key is still refused.
            await expectCode(.conditionFailed) { try await store.put(try Key("created/0"), value: bytes("again"), precondition: .ifNoneExists) }
        }
    }

    @Test("a batch: every item written once and acknowledged", arguments: TestBackend.all)
    func batchItems(_ backend: TestBackend) async throws {
        try await backend.withObjects { base in
            let objects = TestObjectStore(base)
            let store = KeyValueStore(objects: objects)
            _ = Self.loseAnswers(of: objects)
            let items = try (0..<40).map { BatchWrite(key: try Key("batch/\($0)"), value: bytes("b\($0)")) }
            let results = await store.putMany(items, concurrency: 8)
            objects.afterEach(nil)
            objects.beforeEachOperation(nil)
            for (index, result) in results.enumerated() {
                let receipt = try result.get()
                #expect(receipt.version == 1, "item \(index)")
            }
            let listed = try await ListingTests.walk(KeyValueStore(objects: base), KeyListQuery(prefix: "batch/", limit: 1000))
            #expect(listed.keys.count == 40)
        }
    }

    @Test("history: overwrites get consecutive versions, each archived with its own value", arguments: TestBackend.all)
    func historyStaysContiguous(_ backend: TestBackend) async throws {
        try await backend.withObjects { base in
            let objects = TestObjectStore(base)
            let store = KeyValueStore(objects: objects, configuration: KVStoreConfiguration(versionHistory: 50))
            let key = try Key("h")
            _ = Self.loseAnswers(of: objects)
            for round in 1...20 {
                #expect(try await store.put(key, value: bytes("v\(round)")).version == Int64(round))
            }
            objects.afterEach(nil)
            objects.beforeEachOperation(nil)
            let cold = KeyValueStore(objects: base, configuration: KVStoreConfiguration(versionHistory: 50))
            #expect(try await cold.versions(of: key).map(\.version) == Array((1...20).reversed()))
            for round in 1...20 {
                #expect(try await cold.get(key, version: Int64(round)).text == "v\(round)")
            }
        }
    }

    @Test("deletes whose answer is lost are answered as done, and the key is gone", arguments: TestBackend.all)
    func deletes(_ backend: TestBackend) async throws {
        try await backend.withObjects { base in
            let objects = TestObjectStore(base)
            // History on: every delete is conditional on the version it archived.
            let store = KeyValueStore(objects: objects, configuration: KVStoreConfiguration(versionHistory: 2))
            for index in 0..<12 { _ = try await store.put(try Key("d/\(index)"), value: bytes("x")) }
            let faults = Self.loseAnswers(of: objects, every: 2)
            for index in 0..<12 {
                try await store.delete(try Key("d/\(index)"))
                await expectCode(.notFound) { try await store.delete(try Key("d/\(index)")) }
            }
            objects.afterEach(nil)
            objects.beforeEachOperation(nil)
            #expect(faults.lost > 3)
            let listed = try await ListingTests.walk(KeyValueStore(objects: base), KeyListQuery(prefix: "d/"))
            #expect(listed.keys.isEmpty)
        }
    }

    @Test("when the evidence is gone, a conditional write says its outcome is unknown instead of guessing")
    func unknownOutcome() async throws {
        let base = MemoryObjectStore()
        let objects = TestObjectStore(base)
        let store = KeyValueStore(objects: objects, configuration: KVStoreConfiguration(cache: .disabled))
        let key = try Key("k")
        _ = try await store.put(key, value: bytes("1"))
        let read = try await store.get(key)
        // The write lands, its answer is lost, and before anyone can look two more writes bury it.
        let other = KeyValueStore(objects: base)
        objects.afterEach { operation in
            guard operation.kind == .put, operation.isConditional else { return nil }
            objects.afterEach(nil)
            // The read that resolves the write comes after two more writes.
            objects.beforeEachOperation { operation in
                guard operation.kind == .head else { return }
                objects.beforeEachOperation(nil)
                _ = try await other.put(key, value: bytes("3"))
                _ = try await other.put(key, value: bytes("4"))
            }
            return ObjectStoreError(.outcomeUnknown, "injected")
        }
        await expectCode(.outcomeUnknown) { try await store.put(key, value: bytes("2"), precondition: .ifMatch(read.info.etag)) }
    }
}
