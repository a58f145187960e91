import Foundation
import KVStore
import NIOCore
import LocalStores
import ObjectStore
import TestSupport
import Testing

@Suite struct VersioningTests {
    @Test("versions count writes; history keeps N previous, pruned beyond", arguments: TestBackend.all)
    func history(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let store = KeyValueStore(objects: objects, configuration: KVStoreConfiguration(versionHistory: 2))
            let key = try Key("doc")
            for (index, text) in ["one", "two", "three", "four"].enumerated() {
                let receipt = try await store.put(key, value: bytes(text))
                #expect(receipt.version == Int64(index + 1))
            }
            #expect(try await store.get(key).info.version == 4)
            #expect(try await store.get(key, version: 4).text == "four")
            #expect(try await store.get(key, version: 3).text == "three")
            #expect(try await store.get(key, version: 2).text == "two")
            await expectCode(.versionNotFound) { try await store.get(key, version: 1) }
            await expectCode(.versionNotFound) { try await store.get(key, version: 5) }
            #expect(try await store.versions(of: key).map(\.version) == [4, 3, 2])
            #expect(try await objects.list(ListRequest(prefix: "versions/")).objects.count == 2)

            // DELETE keeps history readable, the deleted version included.
            try await store.delete(key)
            await expectCode(.notFound) { try await store.get(key) }
            #expect(try await store.get(key, version: 4).text == "four")
            #expect(try await store.versions(of: key).map(\.version) == [4, 3])

            // Written again, the key continues its numbering, even from a cold instance.
            let cold = KeyValueStore(objects: objects, configuration: KVStoreConfiguration(versionHistory: 2))
            #expect(try await cold.put(key, value: bytes("five")).version == 5)
            #expect(try await cold.versions(of: key).map(\.version) == [5, 4, 3])
        }
    }

    @Test("a version written through another instance is readable at once, though this instance's cache is behind", arguments: TestBackend.all)
    func versionWrittenElsewhere(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let configuration = KVStoreConfiguration(versionHistory: 5)
            let (here, elsewhere) = (KeyValueStore(objects: objects, configuration: configuration), KeyValueStore(objects: objects, configuration: configuration))
            let key = try Key("shared")
            _ = try await here.put(key, value: bytes("one"))
            #expect(try await here.get(key).info.version == 1, "cached here, within the staleness bound")
            _ = try await elsewhere.put(key, value: bytes("two"))
            #expect(try await here.get(key, version: 2).text == "two")
            #expect(try await here.get(key, version: 1).text == "one")
            if case .buffered(let entry) = try await here.open(key, version: 2) { #expect(entry.text == "two") } else { Issue.record("a small value streamed") }
            await expectCode(.versionNotFound) { try await here.get(key, version: 3) }
        }
    }

    @Test("with history off, numbers still grow, and restart after a delete", arguments: TestBackend.all)
    func historyOff(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let store = KeyValueStore(objects: objects)
            let key = try Key("k")
            #expect(try await store.put(key, value: bytes("a")).version == 1)
            #expect(try await store.put(key, value: bytes("b")).version == 2)
            let other = KeyValueStore(objects: objects)
            #expect(try await other.put(key, value: bytes("c")).version == 3)
            await expectCode(.versionNotFound) { try await other.get(key, version: 2) }
            #expect(try await other.versions(of: key).map(\.version) == [3])
            #expect(try await objects.list(ListRequest(prefix: "versions/")).objects.isEmpty)
            try await store.delete(key)
            #expect(try await store.put(key, value: bytes("d")).version == 1)
        }
    }

    /// The embedded store only: moto checks a conditional PUT's condition and then writes, so
    /// racing instances on moto both win now and then, which no client can repair.
    @Test("racing writers on separate instances never lose a version or share a number", arguments: [TestBackend.sqlite])
    func racingWriters(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let configuration = KVStoreConfiguration(versionHistory: 100)
            let key = try Key("contended")
            let receipts = try await withThrowingTaskGroup(of: [WriteReceipt].self) { group in
                for writer in 0..<4 {
                    let instance = KeyValueStore(objects: objects, configuration: configuration)
                    group.addTask {
                        var receipts: [WriteReceipt] = []
                        for round in 0..<10 {
                            // A 409 write_conflict writes nothing and asks for a retry, as a client would.
                            for attempt in 0..<5 {
                                do {
                                    receipts.append(try await instance.put(key, value: bytes("w\(writer)-r\(round)")))
                                    break
                                } catch let error as KVError where error.code == .conflict && attempt < 4 {}
                            }
                        }
                        return receipts
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let versions = receipts.map(\.version).sorted()
            #expect(versions == Array(1...40))
            // Every acknowledged write is readable under the version it was given.
            let store = KeyValueStore(objects: objects, configuration: configuration)
            for receipt in receipts {
                #expect(try await store.get(key, version: receipt.version).info.etag == receipt.etag)
            }
        }
    }

    @Test("a crash between archiving and writing loses nothing")
    func crashAfterArchive() async throws {
        let base = MemoryObjectStore()
        let objects = TestObjectStore(base)
        let store = KeyValueStore(objects: objects, configuration: KVStoreConfiguration(versionHistory: 5))
        let key = try Key("k")
        _ = try await store.put(key, value: bytes("v1"))
        objects.beforeEach { operation in
            if operation == "put kv/k" { throw ObjectStoreError(.unavailable, "connection reset") }
        }
        await expectCode(.backendUnavailable) { try await store.put(key, value: bytes("v2")) }
        objects.beforeEach(nil)
        #expect(try await store.get(key).text == "v1")
        let next = try await store.put(key, value: bytes("v2"))
        #expect(next.version == 2)
        #expect(try await store.get(key, version: 1).text == "v1")
    }

    @Test("a key's history lists only its own versions, however many versions its child keys have", arguments: TestBackend.all)
    func childKeysDoNotCrowdOutHistory(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let store = KeyValueStore(objects: objects, configuration: KVStoreConfiguration(versionHistory: 3))
            let key = try Key("a")
            for round in 1...3 { _ = try await store.put(key, value: bytes("a\(round)")) }
            // Child keys whose names sort among and around a's version names, with many versions:
            // more than a listing page (1,000) of objects under versions/a/.
            let children = try ["0", "00000000000000000002x", "b"].map { try Key("a/\($0)") }
            let versionsPerChild = backend == .s3 ? 400 : 700
            for child in children {
                for version in 1...versionsPerChild {
                    let name = ObjectName("versions/\(child.rawValue)/") + ObjectName(String(format: "%020d", version))
                    _ = try await objects.put(name, body: bytes("child"), options: PutOptions(metadata: ["version": "\(version)"]))
                }
            }
            #expect(try await store.versions(of: key).map(\.version) == [3, 2, 1])
            // Deleted and written again, the key continues its own numbering.
            try await store.delete(key)
            #expect(try await store.put(key, value: bytes("again")).version == 4)
            #expect(try await store.get(key, version: 2).text == "a2")
        }
    }

    @Test("history reads answer 503 while the backend is down, not 500")
    func historyWhileBackendDown() async throws {
        let objects = TestObjectStore(MemoryObjectStore())
        let store = KeyValueStore(objects: objects, configuration: KVStoreConfiguration(versionHistory: 3))
        let key = try Key("k")
        _ = try await store.put(key, value: bytes("1"))
        _ = try await store.put(key, value: bytes("2"))
        objects.beforeEachOperation { operation in
            if operation.kind == .list || operation.name?.hasPrefix("versions/") == true {
                throw ObjectStoreError(.unavailable, "connection refused")
            }
        }
        await expectCode(.backendUnavailable) { try await store.versions(of: key) }
        await expectCode(.backendUnavailable) { try await store.get(key, version: 1) }
        await expectCode(.backendUnavailable) { try await store.put(try Key("new"), value: bytes("x")) }
    }
}
