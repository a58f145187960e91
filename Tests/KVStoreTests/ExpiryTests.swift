import Foundation
import KVStore
import NIOCore
import ObjectStore
import TestSupport
import Testing

/// TTLs on every backend, with a manual clock.
@Suite struct ExpiryTests {
    static let configuration = KVStoreConfiguration(sweepSettleTime: .seconds(60))

    @Test("an expired value is gone from every read path, before any sweep", arguments: TestBackend.all)
    func expiredIsInvisible(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let clock = ManualClock()
            let store = KeyValueStore(objects: objects, configuration: Self.configuration, clock: clock.storeClock)
            let key = try Key("session/1")
            let receipt = try await store.put(key, value: bytes("v"), ttl: try TimeToLive(parsing: "30s"))
            #expect(receipt.expiresAt == UnixMilliseconds(clock.now).adding(try TimeToLive(parsing: "30s")))
            #expect(try await store.get(key).info.expiresAt == receipt.expiresAt)
            #expect(try await store.head(key).expiresAt == receipt.expiresAt)

            clock.advance(.milliseconds(29_999))
            #expect(try await store.get(key).text == "v")

            clock.advance(.milliseconds(1))
            await expectCode(.notFound) { try await store.get(key) }
            await expectCode(.notFound) { try await store.head(key) }
            await expectCode(.notFound) { try await store.get(key, ifNoneMatch: .oneOf([try #require(receipt.etag)])) }
            await expectCode(.notFound) { try await store.get(key, ifNoneMatch: .any) }
            await expectCode(.notFound) { try await store.delete(key) }
            await expectCode(.versionNotFound) { try await store.get(key, version: 1) }
            await expectCode(.notFound) { try await store.versions(of: key) }
            await expectCode(.conditionFailed) { try await store.put(key, value: bytes("w"), precondition: .ifMatch(try #require(receipt.etag))) }
            await expectCode(.conditionFailed) { try await store.put(key, value: bytes("w"), precondition: .ifExists) }

            // A fresh instance (cold cache) sees the same.
            let other = KeyValueStore(objects: objects, configuration: Self.configuration, clock: clock.storeClock)
            await expectCode(.notFound) { try await other.get(key) }
            // Create-only succeeds on an expired key: to clients it does not exist.
            let created = try await other.put(key, value: bytes("new"), precondition: .ifNoneExists)
            #expect(created.version == 2 && created.expiresAt == nil)
        }
    }

    @Test("a PUT without ttl clears the expiry", arguments: TestBackend.all)
    func putWithoutTTLClearsExpiry(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let clock = ManualClock()
            let store = KeyValueStore(objects: objects, configuration: Self.configuration, clock: clock.storeClock)
            let key = try Key("k")
            _ = try await store.put(key, value: bytes("1"), ttl: TimeToLive(milliseconds: 1000))
            let second = try await store.put(key, value: bytes("2"))
            #expect(second.expiresAt == nil)
            clock.advance(.seconds(3600))
            #expect(try await store.get(key).text == "2")
            #expect(try await store.get(key).info.expiresAt == nil)
        }
    }

    @Test("the sweeper reclaims expired values and drops their index entries", arguments: TestBackend.all)
    func sweeperReclaims(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let clock = ManualClock()
            let store = KeyValueStore(objects: objects, configuration: Self.configuration, clock: clock.storeClock)
            let sweeper = ExpirySweeper(store: store)
            for index in 0..<5 {
                _ = try await store.put(try Key("short/\(index)"), value: bytes("x"), ttl: TimeToLive(milliseconds: 1000))
            }
            _ = try await store.put(try Key("long"), value: bytes("x"), ttl: TimeToLive(milliseconds: 3_600_000))
            _ = try await store.put(try Key("forever"), value: bytes("x"))

            // Expired but within the settle time: left alone.
            clock.advance(.seconds(30))
            #expect(try await sweeper.sweep() == ExpirySweeper.Report())

            clock.advance(.seconds(40))
            var report = try await sweeper.sweep()
            #expect(report.examined == 5 && report.reclaimed == 5 && report.stale == 0 && !report.hasMore)
            let values = try await objects.list(ListRequest(prefix: "kv/")).objects.map(\.name)
            #expect(values == ["kv/forever", "kv/long"])
            let index = try await objects.list(ListRequest(prefix: "expiry/")).objects.map(\.name)
            #expect(index.count == 1 && index[0].string.hasSuffix("/long"))

            // Nothing more is due; a second pass does nothing.
            report = try await sweeper.sweep()
            #expect(report == ExpirySweeper.Report())
        }
    }

    @Test("a value rewritten after its expiry survives the sweeper", arguments: TestBackend.all)
    func rewrittenValueSurvives(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let clock = ManualClock()
            let store = KeyValueStore(objects: objects, configuration: Self.configuration, clock: clock.storeClock)
            let key = try Key("k")
            _ = try await store.put(key, value: bytes("old"), ttl: TimeToLive(milliseconds: 1000))
            clock.advance(.seconds(2))
            await expectCode(.notFound) { try await store.get(key) }
            _ = try await store.put(key, value: bytes("new"))
            clock.advance(.seconds(120))

            let report = try await ExpirySweeper(store: store).sweep()
            #expect(report.examined == 1 && report.reclaimed == 0 && report.stale == 1)
            #expect(try await store.get(key).text == "new")
            #expect(try await objects.list(ListRequest(prefix: "expiry/")).objects.isEmpty)
        }
    }

    @Test("a value rewritten between the sweeper's check and its delete survives", arguments: TestBackend.all)
    func rewriteDuringSweepSurvives(_ backend: TestBackend) async throws {
        try await backend.withObjects { base in
            let objects = TestObjectStore(base)
            let clock = ManualClock()
            let store = KeyValueStore(objects: objects, configuration: Self.configuration, clock: clock.storeClock)
            let writer = KeyValueStore(objects: base, configuration: Self.configuration, clock: clock.storeClock)
            let key = try Key("k")
            _ = try await store.put(key, value: bytes("old"), ttl: TimeToLive(milliseconds: 1000))
            clock.advance(.seconds(120))
            // Just before the sweeper's delete of the value, another instance writes a new one.
            objects.beforeEach { operation in
                guard operation == "delete kv/k" else { return }
                objects.beforeEach(nil)
                _ = try await writer.put(key, value: bytes("new"))
            }
            let report = try await ExpirySweeper(store: store).sweep()
            #expect(report.reclaimed == 0 && report.stale == 1)
            #expect(try await writer.get(key).text == "new")
        }
    }

    /// Not on moto: its conditional delete checks and then deletes, so two sweepers racing for
    /// one value both succeed now and then, and both count it.
    @Test("several sweepers at once reclaim each value exactly once", arguments: [TestBackend.memory, .sqlite])
    func concurrentSweepers(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let clock = ManualClock()
            let store = KeyValueStore(objects: objects, configuration: Self.configuration, clock: clock.storeClock)
            for index in 0..<30 {
                _ = try await store.put(try Key("k\(index)"), value: bytes("x"), ttl: TimeToLive(milliseconds: 1000))
            }
            clock.advance(.seconds(120))
            let reports = try await withThrowingTaskGroup(of: ExpirySweeper.Report.self) { group in
                for _ in 0..<3 {
                    // Separate instances: separate caches, one bucket.
                    let instance = KeyValueStore(objects: objects, configuration: Self.configuration, clock: clock.storeClock)
                    group.addTask { try await ExpirySweeper(store: instance).sweep() }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(reports.map(\.reclaimed).reduce(0, +) == 30)
            #expect(try await objects.list(ListRequest(prefix: "kv/")).objects.isEmpty)
            #expect(try await objects.list(ListRequest(prefix: "expiry/")).objects.isEmpty)
        }
    }

    @Test("an index entry the backend keeps failing on does not stop the sweep of the entries after it", arguments: TestBackend.all)
    func failingEntryDoesNotBlockTheRest(_ backend: TestBackend) async throws {
        try await backend.withObjects { base in
            let objects = TestObjectStore(base)
            let clock = ManualClock()
            let store = KeyValueStore(objects: objects, configuration: Self.configuration, clock: clock.storeClock)
            // "a" expires first, so its index entry comes first.
            _ = try await store.put(try Key("a"), value: bytes("x"), ttl: TimeToLive(milliseconds: 1000))
            _ = try await store.put(try Key("b"), value: bytes("x"), ttl: TimeToLive(milliseconds: 2000))
            _ = try await store.put(try Key("c"), value: bytes("x"), ttl: TimeToLive(milliseconds: 3000))
            clock.advance(.seconds(120))
            objects.beforeEachOperation { operation in
                if operation.name == "kv/a" { throw ObjectStoreError(.backendFailure, "InternalError: injected for one key") }
            }
            let first = try await ExpirySweeper(store: store).sweep()
            #expect(first.examined == 3 && first.reclaimed == 2 && first.failed == 1)
            let second = try await ExpirySweeper(store: store).sweep()
            #expect(second.examined == 1 && second.failed == 1, "the failed entry stays in the index")
            objects.beforeEachOperation(nil)
            let third = try await ExpirySweeper(store: store).sweep()
            #expect(third.reclaimed == 1 && third.failed == 0)
            #expect(try await base.list(ListRequest(prefix: "kv/")).objects.isEmpty)
            #expect(try await base.list(ListRequest(prefix: "expiry/")).objects.isEmpty)
        }
    }
}
