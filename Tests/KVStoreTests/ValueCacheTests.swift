import Foundation
@testable import KVStore
import NIOCore
import LocalStores
import ObjectStore
import TestSupport
import Testing

@Suite struct ValueCacheTests {
    @Test("reads are served from the cache until the staleness bound, then revalidated", arguments: TestBackend.all)
    func stalenessBound(_ backend: TestBackend) async throws {
        try await backend.withObjects { base in
            let objects = TestObjectStore(base)
            let clock = ManualClock()
            // No stale-while-revalidate window: a read past the bound waits for its revalidation.
            let configuration = KVStoreConfiguration(cache: .init(maxStaleness: .seconds(2), staleWhileRevalidate: .zero))
            let here = KeyValueStore(objects: objects, configuration: configuration, clock: clock.storeClock)
            let elsewhere = KeyValueStore(objects: base, configuration: configuration, clock: clock.storeClock)
            let key = try Key("k")

            _ = try await here.put(key, value: bytes("1"))
            objects.reset()
            #expect(try await here.get(key).text == "1")
            #expect(objects.operations.isEmpty, "a fresh write-through entry is served without the backend")

            // Another instance writes; this one may serve its cached value for up to 2 s.
            _ = try await elsewhere.put(key, value: bytes("2"), precondition: .ifExists)
            clock.advance(.milliseconds(1999))
            #expect(try await here.get(key).text == "1")
            clock.advance(.milliseconds(1))
            #expect(try await here.get(key).text == "2")
            #expect(objects.operations == ["get kv/k"])

            // Unchanged after the bound: a revalidation, then fresh again.
            clock.advance(.seconds(3))
            #expect(try await here.get(key).text == "2")
            #expect(try await here.get(key).text == "2")
            #expect(objects.operations == ["get kv/k", "get kv/k"])
            let statistics = here.cache.statistics
            #expect(statistics.hits == 3 && statistics.misses == 2 && statistics.entries == 1)
        }
    }

    @Test("deletes invalidate, expired entries are never served", arguments: TestBackend.all)
    func invalidation(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let clock = ManualClock()
            let store = KeyValueStore(objects: objects, configuration: KVStoreConfiguration(cache: .init(maxStaleness: .seconds(3600))), clock: clock.storeClock)
            let key = try Key("k")
            _ = try await store.put(key, value: bytes("v"))
            try await store.delete(key)
            await expectCode(.notFound) { try await store.get(key) }

            _ = try await store.put(key, value: bytes("v"), ttl: TimeToLive(milliseconds: 500))
            #expect(try await store.get(key).text == "v")
            clock.advance(.milliseconds(500))
            await expectCode(.notFound) { try await store.get(key) }
            await expectCode(.notFound) { try await store.head(key) }
        }
    }

    @Test("the cache stays within its byte budget, evicting least recently used entries")
    func boundedByBytes() async throws {
        let clock = ManualClock()
        // 16 shards of 4 KiB: one shard holds a few 200-byte values (about 900 bytes each, all told).
        let configuration = KVStoreConfiguration(cache: .init(capacityBytes: 64 * 1024, maxValueBytes: 512, maxStaleness: .seconds(60)))
        let store = KeyValueStore(objects: MemoryObjectStore(), configuration: configuration, clock: clock.storeClock)
        for index in 0..<400 {
            _ = try await store.put(try Key("k\(index)"), value: ByteBuffer(repeating: 7, count: 200))
        }
        let statistics = store.cache.statistics
        #expect(statistics.bytes <= 64 * 1024)
        #expect(statistics.evictions == 400 - statistics.entries)
        #expect(statistics.entries > 16)
        // The most recent write of each shard is still cached.
        #expect(try await store.get(try Key("k399")).text.count == 200)
        #expect(store.cache.statistics.hits == 1)

        // Values over the per-value cap are not kept; their attributes are (cheap HEADs).
        _ = try await store.put(try Key("big"), value: ByteBuffer(repeating: 1, count: 4096))
        _ = try await store.head(try Key("big"))
        #expect(store.cache.statistics.hits == 2)
        _ = try await store.get(try Key("big"))
        #expect(store.cache.statistics.misses == 1)
    }

    @Test("KV_CACHE_BYTES=0 turns the cache off")
    func disabled() async throws {
        let objects = TestObjectStore(MemoryObjectStore())
        let store = KeyValueStore(objects: objects, configuration: KVStoreConfiguration(cache: .disabled))
        _ = try await store.put(try Key("k"), value: bytes("v"))
        _ = try await store.get(try Key("k"))
        _ = try await store.get(try Key("k"))
        #expect(objects.operations == ["put kv/k", "get kv/k", "get kv/k"])
        #expect(store.cache.statistics == CacheStatistics())
    }
}

/// The LRU list under each cache shard.
@Suite struct LRUListTests {
    @Test("reading an entry keeps it; the least recently used goes first")
    func evictionOrder() {
        var list = LRUList<String, Int>(capacity: 3)
        list.set(1, for: "a", cost: 1)
        list.set(2, for: "b", cost: 1)
        list.set(3, for: "c", cost: 1)
        #expect(list.value(for: "a") == 1)
        #expect(list.set(4, for: "d", cost: 1) == 1)
        #expect(list.value(for: "b") == nil)
        #expect(list.value(for: "a") == 1 && list.value(for: "c") == 3 && list.value(for: "d") == 4)
        #expect(list.count == 3 && list.totalCost == 3)
    }

    @Test("costs: a big entry evicts several; one larger than the capacity is not kept; replacing frees the old cost")
    func costs() {
        var list = LRUList<String, Int>(capacity: 10)
        for (index, key) in ["a", "b", "c", "d", "e"].enumerated() { list.set(index, for: key, cost: 2) }
        #expect(list.set(9, for: "big", cost: 7) == 4)
        #expect(list.count == 2 && list.totalCost == 9)
        #expect(list.value(for: "e") == 4)
        #expect(list.set(0, for: "huge", cost: 11) == 0)
        #expect(list.value(for: "huge") == nil && list.count == 2)
        list.set(5, for: "e", cost: 1)
        #expect(list.totalCost == 8 && list.value(for: "e") == 5)
        #expect(list.remove("big") && !list.remove("big"))
        #expect(list.totalCost == 1 && list.count == 1)
        // Freed slots are reused without disturbing order.
        for index in 0..<20 { list.set(index, for: "k\(index)", cost: 1) }
        #expect(list.count == 10 && list.value(for: "k19") == 19 && list.value(for: "k9") == nil)
    }
}

/// How many backend requests each operation costs.
@Suite struct RequestCountTests {
    @Test("with history off and no TTL, an unconditional PUT is one request", arguments: TestBackend.all)
    func plainPutIsOneRequest(_ backend: TestBackend) async throws {
        try await backend.withObjects { base in
            let objects = TestObjectStore(base)
            let store = KeyValueStore(objects: objects)
            _ = try await store.put(try Key("new"), value: bytes("1"))
            #expect(objects.operations == ["put kv/new"])
            objects.reset()
            let overwrite = try await store.put(try Key("new"), value: bytes("2"))
            #expect(objects.operations == ["put kv/new"], "a key this instance knows")
            #expect(overwrite.version == 2)

            // A key it does not know costs the failed guess, a read and the write.
            let cold = KeyValueStore(objects: objects)
            objects.reset()
            let third = try await cold.put(try Key("new"), value: bytes("3"))
            #expect(objects.operations == ["put kv/new", "head kv/new", "put kv/new"])
            #expect(third.version == 3)
        }
    }

    @Test("a TTL adds the index entry; history adds the archive copy")
    func extraRequests() async throws {
        let objects = TestObjectStore(MemoryObjectStore())
        let store = KeyValueStore(objects: objects, configuration: KVStoreConfiguration(versionHistory: 2))
        _ = try await store.put(try Key("k"), value: bytes("1"), ttl: TimeToLive(milliseconds: 60_000))
        #expect(objects.operations.count == 3)
        #expect(objects.operations[0].hasPrefix("put expiry/") && objects.operations[0].hasSuffix("/k"))
        #expect(objects.operations[1...] == ["list versions/k/0", "put kv/k"])
        objects.reset()
        _ = try await store.put(try Key("k"), value: bytes("2"))
        #expect(objects.operations == ["put versions/k/00000000000000000001", "put kv/k"])
    }

    @Test("the staleness bound runs on the monotonic clock: setting the wall clock back does not stretch it")
    func monotonicStaleness() async throws {
        let objects = TestObjectStore(MemoryObjectStore())
        let clock = ManualClock()
        let configuration = KVStoreConfiguration(cache: .init(maxStaleness: .seconds(1), staleWhileRevalidate: .zero))
        let store = KeyValueStore(objects: objects, configuration: configuration, clock: clock.storeClock)
        let key = try Key("k")
        _ = try await store.put(key, value: bytes("v"))
        objects.reset()
        clock.stepWallClock(by: .seconds(-3600))
        #expect(try await store.get(key).text == "v")
        #expect(objects.operations.isEmpty, "still fresh")
        clock.advance(.seconds(2))
        #expect(try await store.get(key).text == "v")
        #expect(objects.operations == ["get kv/k"], "revalidated once the bound passed, though the wall clock is an hour back")
        // Set forward, it does not void the bound either.
        objects.reset()
        clock.stepWallClock(by: .seconds(7200))
        #expect(try await store.get(key).text == "v")
        #expect(objects.operations.isEmpty)
    }

    @Test("stale-while-revalidate: a hot key's reads do not wait on a slow backend; one revalidation runs behind them")
    func staleWhileRevalidate() async throws {
        let base = MemoryObjectStore()
        let objects = TestObjectStore(base)
        let clock = ManualClock()
        let configuration = KVStoreConfiguration(cache: .init(maxStaleness: .seconds(1), staleWhileRevalidate: .seconds(10)))
        let store = KeyValueStore(objects: objects, configuration: configuration, clock: clock.storeClock)
        let key = try Key("hot")
        _ = try await store.put(key, value: bytes("1"))
        _ = try await KeyValueStore(objects: base).put(key, value: bytes("2"), precondition: .ifExists)
        let slow = Gate()
        objects.beforeEachOperation { operation in
            if operation.kind == .get { await slow.wait() }
        }
        objects.reset()
        clock.advance(.seconds(2))
        // Past the bound, within the window: every read answers from the cache at once, and
        // exactly one revalidation goes to the (slow) backend.
        for _ in 0..<20 { #expect(try await store.get(key).text == "1") }
        try await Task.sleep(for: .milliseconds(50))
        #expect(objects.operations == ["get kv/hot"])
        await slow.open()
        // Once it answers, the new value is served.
        for _ in 0..<100 where try await store.get(key).text != "2" { try await Task.sleep(for: .milliseconds(10)) }
        #expect(try await store.get(key).text == "2")
        // A client's no-cache asks the backend whatever the cache holds.
        objects.reset()
        #expect(try await store.get(key, fresh: true).text == "2")
        #expect(objects.operations == ["get kv/hot"])
        // And on a HEAD: a value deleted behind this instance's back is gone at once.
        try await KeyValueStore(objects: base).delete(key)
        #expect(try await store.head(key).version == 2, "cached, within the bound")
        await expectCode(.notFound) { try await store.head(key, fresh: true) }
        _ = try await KeyValueStore(objects: base).put(key, value: bytes("2"))
        // Past the window too, a read waits for the backend.
        objects.reset()
        clock.advance(.seconds(12))
        #expect(try await store.get(key).text == "2")
        #expect(objects.operations == ["get kv/hot"])
    }

    @Test("stale-if-error: while the backend is down a cached value is served within the window, and not past it")
    func staleIfError() async throws {
        let objects = TestObjectStore(MemoryObjectStore())
        let clock = ManualClock()
        let configuration = KVStoreConfiguration(
            cache: .init(maxStaleness: .seconds(1), staleWhileRevalidate: .zero, staleIfError: .seconds(30))
        )
        let store = KeyValueStore(objects: objects, configuration: configuration, clock: clock.storeClock)
        let key = try Key("k")
        _ = try await store.put(key, value: bytes("v"))
        objects.beforeEach { _ in throw ObjectStoreError(.unavailable, "connection refused") }
        clock.advance(.seconds(10))
        #expect(try await store.get(key).text == "v")
        clock.advance(.seconds(30))
        await expectCode(.backendUnavailable) { try await store.get(key) }
    }
}
