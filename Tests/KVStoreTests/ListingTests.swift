import Foundation
import KVStore
import NIOCore
import ObjectStore
import TestSupport
import Testing

/// Listing on every backend: order, prefix, range, delimiter, paging, expiry.
@Suite struct ListingTests {
    /// Every page of `query` in turn (bounded to 1,000 pages), with what each returned.
    static func walk(_ store: KeyValueStore, _ query: KeyListQuery) async throws -> (keys: [String], prefixes: [String], pages: Int) {
        var query = query
        var keys: [String] = []
        var prefixes: [String] = []
        for page in 1...1000 {
            let result = try await store.list(query)
            keys += result.entries.map(\.key.rawValue)
            prefixes += result.commonPrefixes.map(\.string)
            guard let next = result.continuation else { return (keys, prefixes, page) }
            query.continuation = next
        }
        Issue.record("the walk did not end")
        return (keys, prefixes, 1000)
    }

    static let names = ["a", "a/1", "a/2", "a/b/1", "b", "b/1", "ba", "c d", "é", "z/9", "日本"]

    static func filled(_ objects: any ObjectStore, clock: ManualClock = ManualClock()) async throws -> KeyValueStore {
        let store = KeyValueStore(objects: objects, clock: clock.storeClock)
        for name in Self.names { _ = try await store.put(try Key(name), value: bytes("value of \(name)")) }
        return store
    }

    @Test("keys come in UTF-8 byte order with their attributes, over pages of any size", arguments: TestBackend.all)
    func orderAndPaging(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let store = try await Self.filled(objects)
            let sorted = Self.names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for limit in [1, 3, 100] {
                let walk = try await Self.walk(store, KeyListQuery(limit: limit))
                #expect(walk.keys == sorted, "limit \(limit)")
            }
            // A fresh instance (nothing cached) reads each item's attributes from the backend.
            let cold = KeyValueStore(objects: objects)
            let first = try await cold.list(KeyListQuery(limit: 2))
            #expect(first.entries.map(\.key.rawValue) == ["a", "a/1"])
            #expect(first.entries[0].size == "value of a".utf8.count)
            #expect(first.entries[0].version == 1)
            #expect(first.entries[0].etag == (try await objects.head("kv/a", ifNoneMatch: nil)).etag)
            #expect(first.continuation != nil)
        }
    }

    @Test("prefix, [start, end) and delimiter select what S3 would", arguments: TestBackend.all)
    func selection(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let store = try await Self.filled(objects)
            #expect(try await Self.walk(store, KeyListQuery(prefix: "a/")).keys == ["a/1", "a/2", "a/b/1"])
            #expect(try await Self.walk(store, KeyListQuery(start: "a/2", end: "ba")).keys == ["a/2", "a/b/1", "b", "b/1"])
            #expect(try await Self.walk(store, KeyListQuery(start: "b", end: "b")).keys == [])
            #expect(try await Self.walk(store, KeyListQuery(prefix: "b", start: "b/", limit: 1)).keys == ["b/1", "ba"])
            // A start that is not a key itself, and one before the prefix.
            #expect(try await Self.walk(store, KeyListQuery(start: "a/11")).keys.first == "a/2")
            #expect(try await Self.walk(store, KeyListQuery(prefix: "z/", start: "a")).keys == ["z/9"])

            let folders = try await Self.walk(store, KeyListQuery(delimiter: "/"))
            #expect(folders.keys == ["a", "b", "ba", "c d", "é", "日本"])
            #expect(folders.prefixes == ["a/", "b/", "z/"])
            let nested = try await Self.walk(store, KeyListQuery(prefix: "a/", delimiter: "/", limit: 1))
            #expect(nested.keys == ["a/1", "a/2"])
            #expect(nested.prefixes == ["a/b/"])
            let ranged = try await Self.walk(store, KeyListQuery(start: "a/2", end: "c", delimiter: "/"))
            #expect(ranged.prefixes == ["a/", "b/"])
            #expect(ranged.keys == ["b", "ba"])
        }
    }

    @Test("expired values never appear, before any sweep, on any page", arguments: TestBackend.all)
    func expiry(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let clock = ManualClock()
            let store = KeyValueStore(objects: objects, clock: clock.storeClock)
            for index in 0..<6 {
                let ttl = index.isMultiple(of: 2) ? try TimeToLive(parsing: "10s") : nil
                _ = try await store.put(try Key("k\(index)"), value: bytes("v"), ttl: ttl)
            }
            let before = try await store.list(KeyListQuery())
            #expect(before.entries.map(\.key.rawValue) == ["k0", "k1", "k2", "k3", "k4", "k5"])
            #expect(before.entries[0].expiresAt != nil && before.entries[1].expiresAt == nil)
            clock.advance(.seconds(10))
            #expect(try await Self.walk(store, KeyListQuery(limit: 2)).keys == ["k1", "k3", "k5"])
            let cold = KeyValueStore(objects: objects, clock: clock.storeClock)
            #expect(try await Self.walk(cold, KeyListQuery()).keys == ["k1", "k3", "k5"])
        }
    }

    @Test("a walk under concurrent writes never repeats a key and never misses one that stayed", arguments: TestBackend.all)
    func concurrentWrites(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let store = KeyValueStore(objects: objects)
            let stable = (0..<60).map { String(format: "key-%03d", $0 * 2) }
            for name in stable { _ = try await store.put(try Key(name), value: bytes("stable")) }
            let writer = Task {
                // Odd keys come and go, and stable keys are rewritten, while the walk runs.
                for round in 0..<3 {
                    for index in 0..<60 {
                        let churn = try Key(String(format: "key-%03d", index * 2 + 1))
                        if round.isMultiple(of: 2) {
                            _ = try await store.put(churn, value: bytes("churn"))
                        } else {
                            try? await store.delete(churn)
                        }
                        _ = try await store.put(try Key(stable[index]), value: bytes("rewritten \(round)"))
                    }
                }
            }
            let walk = try await Self.walk(store, KeyListQuery(limit: 7))
            try await writer.value
            #expect(Set(walk.keys).count == walk.keys.count, "a key came twice")
            #expect(Set(stable).isSubset(of: Set(walk.keys)), "a stable key was missed")
            #expect(walk.keys == walk.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        }
    }
}
