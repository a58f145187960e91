import Foundation
import NIOCore
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
