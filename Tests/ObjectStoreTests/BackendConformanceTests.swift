import Foundation
import NIOCore
import GRDB
import LocalStores
import ObjectStore
import TestSupport
import Testing

/// Runs every conformance case against every backend: memory, the embedded store and, under
/// `scripts/test`, a real S3-compatible server (moto).
@Suite struct BackendConformanceTests {
    @Test("conformance", arguments: TestBackend.all, Conformance.cases)
    func conformance(_ backend: TestBackend, _ conformanceCase: ConformanceCase) async throws {
        try await backend.withObjects { store in
            // moto ignores x-amz-copy-source-if-match (S3-FACTS), so that check is left to AWS.
            let context = ConformanceContext(store: store, prefix: "t/", honoursCopySourceIfMatch: backend != .s3)
            try await conformanceCase.run(context)
        }
    }

    @Test("conformance through our S3 client on s3kv's own S3 server", arguments: ["memory", "local"], Conformance.cases)
    func ownS3Server(_ storage: String, _ conformanceCase: ConformanceCase) async throws {
        try await withTemporaryDirectory { directory in
            try await OwnS3Server.withStore(directory: storage == "memory" ? nil : directory) { store in
                try await conformanceCase.run(ConformanceContext(store: store, prefix: "t/", honoursCopySourceIfMatch: true))
            }
        }
    }
}

/// Behaviour specific to the local backends.
@Suite struct LocalBackendTests {
    @Test("a continuation token that was tampered with is an invalid argument", arguments: ["memory", "sqlite"])
    func tamperedToken(_ backend: String) async throws {
        try await withTemporaryDirectory { directory in
            let store: any ObjectStore = backend == "memory" ? MemoryObjectStore() : try SQLiteObjectStore(directory: directory)
            for name in ["a", "b", "c"] { _ = try await store.put(ObjectName(name), body: bytes(name), options: PutOptions()) }
            let page = try await store.list(ListRequest(maxKeys: 1))
            let token = try #require(page.nextContinuationToken)
            for bad in ["", "!!!", "AAAA", "x" + token] {
                await expectError(.invalidArgument) { try await store.list(ListRequest(continuationToken: bad)) }
            }
        }
    }

    @Test("the embedded store keeps every write across a reopen")
    func sqliteSurvivesReopen() async throws {
        try await withTemporaryDirectory { directory in
            var etags: [String: ETag] = [:]
            do {
                let store = try SQLiteObjectStore(directory: directory)
                for index in 0..<50 {
                    etags["k\(index)"] = try await store.put("k\(index)", body: bytes("value \(index)"), options: PutOptions(metadata: ["i": "\(index)"]))
                }
                try store.close()
            }
            let reopened = try SQLiteObjectStore(directory: directory)
            for index in 0..<50 {
                let object = try await reopened.get("k\(index)", ifNoneMatch: nil)
                #expect(object.body == bytes("value \(index)"))
                #expect(object.info.etag == etags["k\(index)"])
                #expect(object.info.metadata == ["i": "\(index)"])
            }
        }
    }

    @Test("lastModified comes from the injected clock, to the millisecond")
    func injectedClock() async throws {
        let instant = Date(timeIntervalSince1970: 1_700_000_000.123_9)
        try await withTemporaryDirectory { directory in
            for store: any ObjectStore in [MemoryObjectStore(now: { instant }), try SQLiteObjectStore(directory: directory, now: { instant })] {
                _ = try await store.put("k", body: bytes("v"), options: PutOptions())
                let info = try await store.head("k", ifNoneMatch: nil)
                #expect(info.lastModified.timeIntervalSince1970 == 1_700_000_000.123)
            }
        }
    }

    @Test("concurrent compare-and-swap increments lose no update on the embedded store")
    func sqliteCompareAndSwap() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteObjectStore(directory: directory)
            _ = try await store.put("counter", body: bytes("0"), options: PutOptions())
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var done = 0
                        var attempts = 0
                        while done < 25, attempts < 10_000 {
                            attempts += 1
                            let current = try await store.get("counter", ifNoneMatch: nil)
                            let value = Int(String(buffer: current.body))! + 1
                            do {
                                _ = try await store.put("counter", body: bytes("\(value)"), options: PutOptions(condition: .ifMatch(current.info.etag)))
                                done += 1
                            } catch let error as ObjectStoreError where error.code == .preconditionFailed {}
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(String(buffer: try await store.get("counter", ifNoneMatch: nil).body) == "100")
        }
    }
}

/// The embedded store's schema: attributes apart from bodies, and data from v1 kept.
@Suite struct SQLiteSchemaTests {
    @Test("attributes and bodies are separate tables, so HEAD and listings never read a body")
    func bodiesApart() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteObjectStore(directory: directory)
            _ = try await store.put("big", body: ByteBuffer(repeating: 1, count: 1 << 20), options: PutOptions())
            try store.close()
            let database = try DatabaseQueue(path: directory + "/" + SQLiteObjectStore.fileName)
            let columns = try await database.read { db in try db.columns(in: "object").map(\.name) }
            #expect(columns == ["key", "size", "etag", "content_type", "metadata", "last_modified_ms", "blob"])
            let bodies = try await database.read { db in try Int.fetchOne(db, sql: "SELECT length(data) FROM object_body") }
            #expect(bodies == 1 << 20)
        }
    }

    @Test("a database written by the first schema opens with every object intact")
    func migratesFromV1() async throws {
        try await withTemporaryDirectory { directory in
            let database = try DatabaseQueue(path: directory + "/" + SQLiteObjectStore.fileName)
            try await database.write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE object (key BLOB NOT NULL PRIMARY KEY, body BLOB NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
                            content_type TEXT NOT NULL, metadata TEXT NOT NULL, last_modified_ms INTEGER NOT NULL);
                        CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                        INSERT INTO grdb_migrations VALUES ('v1');
                        INSERT INTO object VALUES (CAST('kv/a' AS BLOB), CAST('alpha' AS BLOB), 5, '"etag-a"', 'text/plain', '{"version":"3"}', 1700000000000);
                        """
                )
            }
            try database.close()
            let store = try SQLiteObjectStore(directory: directory)
            let object = try await store.get("kv/a", ifNoneMatch: nil)
            #expect(String(buffer: object.body) == "alpha")
            #expect(object.info.etag == ETag("\"etag-a\"") && object.info.metadata == ["version": "3"] && object.info.contentType == "text/plain")
            #expect(try await store.list(ListRequest()).objects.map(\.name) == ["kv/a"])
            #expect(store.limits.maximumObjectBytes >= 1_000_000)
            try store.close()
        }
    }
}
