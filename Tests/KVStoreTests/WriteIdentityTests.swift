import Foundation
import KVStore
import NIOCore
import LocalStores
import ObjectStore
import TestSupport
import Testing

/// Every write is told apart from every other, even of the same bytes, across instances sharing
/// one backend. Each case is one the review confirmed with two instances.
@Suite struct WriteIdentityTests {
    @Test("two writes of the same bytes have different ETags")
    func sameBytesDifferentTags() async throws {
        let store = KeyValueStore(objects: MemoryObjectStore())
        let key = try Key("k")
        let first = try await store.put(key, value: bytes("same"))
        let second = try await store.put(key, value: bytes("same"))
        #expect(first.etag != second.etag)
        #expect(second.version == 2)
    }

    @Test("two streamed writes of the same large bytes have different ETags, and If-Match tells them apart", arguments: TestBackend.all)
    func streamedSameBytesDifferentTags(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let store = KeyValueStore(objects: objects)
            let key = try Key("large")
            // Over the cache's limit, so the value streams (to a file on the embedded store).
            let value = ByteBuffer(repeating: 7, count: (2 << 20) + 3)
            func streamed() -> ObjectBody { ObjectBody(ReadOnceBody([value.getSlice(at: 0, length: 1 << 20)!, value.getSlice(at: 1 << 20, length: value.readableBytes - (1 << 20))!]), length: value.readableBytes) }
            let first = try await store.put(key, streaming: streamed())
            let second = try await store.put(key, streaming: streamed())
            let (firstTag, secondTag) = (try #require(first.etag), try #require(second.etag))
            #expect(firstTag != secondTag && second.version == 2)
            await expectCode(.conditionFailed) { try await store.put(key, streaming: streamed(), precondition: .ifMatch(firstTag)) }
            let third = try await store.put(key, streaming: streamed(), precondition: .ifMatch(secondTag))
            #expect(third.version == 3)
            let read = try await store.stream(key, range: nil)
            #expect(read.info.etag == third.etag && read.info.size == value.readableBytes)
            #expect(try await read.body.collect(upTo: 4 << 20) == value)
        }
    }

    @Test("a cached value rewritten elsewhere with the same bytes and a TTL is not served past its expiry", arguments: TestBackend.all)
    func staleCacheAfterSameBytesRewrite(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let clock = ManualClock()
            let configuration = KVStoreConfiguration(cache: .init(maxStaleness: .seconds(1), staleWhileRevalidate: .zero))
            let a = KeyValueStore(objects: objects, configuration: configuration, clock: clock.storeClock)
            let b = KeyValueStore(objects: objects, configuration: configuration, clock: clock.storeClock)
            let key = try Key("k")
            #expect(try await a.put(key, value: bytes("same")).version == 1)
            #expect(try await a.get(key).info.version == 1)
            let rewrite = try await b.put(key, value: bytes("same"), ttl: TimeToLive(milliseconds: 2000))
            #expect(rewrite.version == 2)
            clock.advance(.milliseconds(1500))
            // Past the staleness bound A revalidates: the tag it holds is not the current write's.
            #expect(try await a.get(key).info.version == 2)
            clock.advance(.milliseconds(1000))
            await expectCode(.notFound) { try await a.get(key) }
            await expectCode(.notFound) { try await b.get(key) }
        }
    }

    @Test("no two writes of a key share a version, and with history each is archived", arguments: TestBackend.all)
    func versionsStayUnique(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let configuration = KVStoreConfiguration(versionHistory: 5)
            let a = KeyValueStore(objects: objects, configuration: configuration)
            let b = KeyValueStore(objects: objects, configuration: configuration)
            let key = try Key("k")
            #expect(try await a.put(key, value: bytes("X")).version == 1)
            #expect(try await b.put(key, value: bytes("X")).version == 2)
            // A still caches version 1 with its tag; the tag no longer matches, so A reads again.
            #expect(try await a.put(key, value: bytes("Z")).version == 3)
            #expect(try await a.versions(of: key).map(\.version) == [3, 2, 1])
            #expect(try await a.get(key, version: 2).text == "X")
            #expect(try await b.get(key, version: 1).text == "X")
        }
    }

    @Test("a client's If-Match fails after any write since its read, even of the same bytes", arguments: TestBackend.all)
    func compareAndSwapSeesSameBytes(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let a = KeyValueStore(objects: objects)
            let b = KeyValueStore(objects: objects)
            let key = try Key("counter")
            _ = try await a.put(key, value: bytes("41"))
            let read = try await KeyValueStore(objects: objects).get(key)
            _ = try await b.put(key, value: bytes("41"))
            await expectCode(.conditionFailed) { try await a.put(key, value: bytes("42"), precondition: .ifMatch(read.info.etag)) }
            // And a read revalidated with that tag is not confirmed by a 304.
            let current = try await b.get(key)
            #expect(current.info.etag != read.info.etag)
            #expect(try await KeyValueStore(objects: objects).get(key, ifNoneMatch: .oneOf([read.info.etag])).text == "41")
        }
    }

    @Test("the sweeper never deletes a value rewritten with the same bytes after the expiry it checked", arguments: TestBackend.all)
    func sweeperSparesSameBytesRewrite(_ backend: TestBackend) async throws {
        try await backend.withObjects { base in
            let objects = TestObjectStore(base)
            let clock = ManualClock()
            let configuration = KVStoreConfiguration(sweepSettleTime: .seconds(1))
            let store = KeyValueStore(objects: objects, configuration: configuration, clock: clock.storeClock)
            let other = KeyValueStore(objects: base, configuration: configuration, clock: clock.storeClock)
            let key = try Key("k")
            _ = try await store.put(key, value: bytes("v"), ttl: TimeToLive(milliseconds: 1000))
            clock.advance(.seconds(5))
            // Between the sweeper's check and its conditional delete, another instance writes the
            // same bytes again, with no expiry.
            objects.beforeEach { operation in
                guard operation == "delete kv/k" else { return }
                objects.beforeEach(nil)
                _ = try await other.put(key, value: bytes("v"))
            }
            let report = try await ExpirySweeper(store: store).sweep()
            #expect(report.reclaimed == 0 && report.stale == 1)
            #expect(try await other.get(key).text == "v")
            #expect(try await KeyValueStore(objects: base).get(key).info.expiresAt == nil)
        }
    }

    @Test("values written before write ids existed are read whole, and the next write adds one")
    func legacyObjectsStayReadable() async throws {
        let objects = MemoryObjectStore()
        let key = try Key("old")
        _ = try await objects.put("kv/old", body: bytes("legacy"), options: PutOptions(metadata: ["version": "4"]))
        let store = KeyValueStore(objects: objects)
        let entry = try await store.get(key)
        #expect(entry.text == "legacy" && entry.info.size == 6 && entry.info.version == 4)
        #expect(try await store.put(key, value: bytes("new")).version == 5)
        #expect(try await KeyValueStore(objects: objects).get(key).text == "new")
    }

    @Test("an object altered outside s3kv, whose body no longer ends with its write id, is a backend failure")
    func alteredObjectIsRefused() async throws {
        let objects = MemoryObjectStore()
        let store = KeyValueStore(objects: objects)
        let key = try Key("k")
        _ = try await store.put(key, value: bytes("value"))
        let stored = try await objects.get("kv/k", ifNoneMatch: nil)
        _ = try await objects.put("kv/k", body: bytes("tampered"), options: PutOptions(metadata: stored.info.metadata))
        await expectCode(.backendFailure) { try await KeyValueStore(objects: objects).get(key) }
    }
}
