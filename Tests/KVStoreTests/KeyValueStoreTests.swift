import Foundation
import KVStore
import NIOCore
import S3
import LocalStores
import ObjectStore
import TestSupport
import Testing

@Suite struct KeyValueStoreTests {
    let objects = MemoryObjectStore()
    var store: KeyValueStore { KeyValueStore(objects: self.objects) }

    @Test("values live under kv/<key> with their content type")
    func layout() async throws {
        let receipt = try await store.put(try Key("a/b"), value: ByteBuffer(string: "v"), contentType: "text/plain")
        #expect(receipt.size == 1)
        let object = try await objects.get("kv/a/b", ifNoneMatch: nil)
        #expect(object.info.contentType == "text/plain")
        #expect(object.info.etag == receipt.etag)
        let defaulted = try await store.put(try Key("c"), value: ByteBuffer(string: "v"))
        #expect(try await store.head(defaulted.key).contentType == KeyValueStore.defaultContentType)
    }

    @Test("missing keys are notFound for get, head and delete")
    func missing() async throws {
        let key = try Key("nope")
        await #expect(throws: KVError(.notFound, "no value is stored under key 'nope'")) { try await store.get(key) }
        await #expect(throws: KVError(.notFound, "no value is stored under key 'nope'")) { try await store.head(key) }
        await #expect(throws: KVError(.notFound, "no value is stored under key 'nope'")) { try await store.delete(key) }
    }

    @Test("conditions: If-Match on a missing key and stale tags are conditionFailed")
    func conditions() async throws {
        let key = try Key("k")
        let stale = ETag("\"0123\"")
        await expectCode(.conditionFailed) { try await store.put(key, value: ByteBuffer(), precondition: .ifMatch(stale)) }
        await expectCode(.conditionFailed) { try await store.put(key, value: ByteBuffer(), precondition: .ifExists) }
        let first = try await store.put(key, value: ByteBuffer(string: "1"), precondition: .ifNoneExists)
        await expectCode(.conditionFailed) { try await store.put(key, value: ByteBuffer(), precondition: .ifNoneExists) }
        _ = try await store.put(key, value: ByteBuffer(string: "2"), precondition: .ifExists)
        await expectCode(.conditionFailed) { try await store.put(key, value: ByteBuffer(), precondition: .ifMatch(try #require(first.etag))) }
        await expectCode(.conditionFailed) { try await store.delete(key, ifMatch: first.etag) }
        let current = try await store.head(key)
        try await store.delete(key, ifMatch: current.etag)
        await expectCode(.notFound) { try await store.get(key) }
    }

    @Test("a matching If-None-Match is notModified")
    func notModified() async throws {
        let receipt = try await store.put(try Key("k"), value: ByteBuffer(string: "v"))
        await expectCode(.notModified) { try await store.get(receipt.key, ifNoneMatch: .oneOf([try #require(receipt.etag)])) }
        await expectCode(.notModified) { try await store.get(receipt.key, ifNoneMatch: .any) }
    }
}

@Suite struct StoreLimitsTests {
    @Test("a content type with control characters is an invalid request on every backend, never a retry", arguments: TestBackend.all)
    func controlCharactersInContentType(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let store = KeyValueStore(objects: objects)
            for contentType in ["text/plain\u{1}", "a\nb", "caf\u{E9}/x", "x\u{7F}"] {
                await expectCode(.invalidRequest) { try await store.put(try Key("k"), value: bytes("v"), contentType: contentType) }
                let batch = await store.putMany([BatchWrite(key: try Key("b"), value: bytes("v"), contentType: contentType)], concurrency: 1)
                #expect((try? batch[0].get()) == nil)
                #expect((batch[0].error as? KVError)?.code == .invalidRequest)
            }
            await expectCode(.notFound) { try await store.get(try Key("k")) }
        }
    }

    @Test("the largest value is what the backend can store and return whole, less the write id")
    func largestValue() async throws {
        let objects = MemoryObjectStore(limits: ObjectStoreLimits(maximumObjectBytes: 4096))
        let store = KeyValueStore(objects: objects)
        #expect(store.maximumValueBytes == 4096 - KeyValueStore.objectOverheadBytes)
        let value = ByteBuffer(repeating: 9, count: store.maximumValueBytes)
        _ = try await store.put(try Key("max"), value: value)
        #expect(try await KeyValueStore(objects: objects).get(try Key("max")).value == value)
        await expectCode(.invalidRequest) {
            try await store.put(try Key("over"), value: ByteBuffer(repeating: 9, count: store.maximumValueBytes + 1))
        }
    }

    @Test("on S3, a value past the client's whole-response limit streams back intact, and S3's 5 TiB is the ceiling", .enabled(if: S3TestServer.isEnabled))
    func largeValueStreamsOnS3() async throws {
        let objects = try await S3TestServer.store(bucket: "s3kv-kvstore", prefix: "limit-\(UUID().uuidString)/", maxResponseBytes: 64 << 10)
        var failure: (any Error)?
        do {
            #expect(KeyValueStore(objects: objects).maximumValueBytes == (5 << 40) - KeyValueStore.objectOverheadBytes)
            let configuration = KVStoreConfiguration(cache: ValueCache.Configuration(maxValueBytes: 16 << 10))
            let value = ByteBuffer(bytes: (0..<(256 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            _ = try await KeyValueStore(objects: objects, configuration: configuration).put(try Key("large"), value: value)
            let reader = KeyValueStore(objects: objects, configuration: configuration)
            let opened = try await reader.open(try Key("large"))
            if case .streamed(let streamed) = opened {
                #expect(streamed.info.size == value.readableBytes)
                #expect(try await streamed.body.collect(upTo: 1 << 20) == value)
            } else {
                Issue.record("a value over the cache's limit was not streamed: \(opened)")
            }
        } catch {
            failure = error
        }
        try await objects.client.shutdown()
        if let failure { throw failure }
    }
}

extension Result {
    var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

func expectCode<T>(_ code: KVError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T) async {
    do {
        _ = try await body()
        Issue.record("expected \(code), but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as KVError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
    }
}

@Suite struct DiskFullTests {
    @Test("a full disk on the embedded store: writes are insufficientStorage, reads still work, writes resume once space is freed")
    func diskFull() async throws {
        try await withTemporaryDirectory { directory in
            // 64 pages of 4 KiB: room for a few values of 20 KB.
            let objects = try SQLiteObjectStore(directory: directory, maximumPages: 64)
            defer { try? objects.close() }
            let store = KeyValueStore(objects: objects)
            var written: [Key] = []
            var full = false
            for index in 0..<100 where !full {
                let key = try Key("fill/\(index)")
                do {
                    _ = try await store.put(key, value: ByteBuffer(repeating: UInt8(index), count: 20_000))
                    written.append(key)
                } catch let error as KVError where error.code == .insufficientStorage {
                    full = true
                }
            }
            #expect(full && written.count > 1, "the store filled up after \(written.count) values")
            for (index, key) in written.enumerated() {
                #expect(try await store.get(key).value == ByteBuffer(repeating: UInt8(index), count: 20_000))
            }
            try await store.delete(written[0])
            try await store.delete(written[1])
            _ = try await store.put(try Key("after"), value: ByteBuffer(repeating: 1, count: 20_000))
        }
    }
}
