import Crypto
import Foundation
import NIOCore
import LocalStores
import ObjectStore
import PropertyBased
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The embedded store's large bodies, kept as files beside the database: where they live, that
/// nothing outlives its object, and that a crash leaves nothing a restart keeps.
@Suite struct EmbeddedFileTests {
    /// Bodies over 1 KiB become files, so small tests exercise the file path.
    static let inline = 1024

    static func files(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory + "/blobs").sorted()
    }

    static func large(_ seed: UInt8, count: Int = 4096) -> ByteBuffer {
        ByteBuffer(bytes: (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) &+ seed })
    }

    @Test("a data directory with a file in its way is refused with the path, not a Foundation error dump")
    func unusableDataDirectory() async throws {
        try await withTemporaryDirectory { directory in
            let file = directory + "/a-file"
            #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
            for path in [file, file + "/below"] {
                do {
                    _ = try SQLiteObjectStore(directory: path)
                    Issue.record("\(path) was taken as a data directory")
                } catch let error as ObjectStoreError {
                    #expect(error.code == .backendFailure && error.message == "\(file) exists and is not a directory", "\(error)")
                }
            }
        }
    }

    @Test("a body over the inline limit is one file, never a row; replacing or deleting it removes the file")
    func fileLifecycle() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteObjectStore(directory: directory, inlineBodyBytes: Self.inline)
            let body = Self.large(1)
            let etag = try await store.put("k", body: body, options: PutOptions(contentType: "x/y"))
            #expect(etag == ETag.md5(of: body.readableBytesView))
            #expect(try Self.files(directory).count == 1)
            #expect(try await store.get("k", ifNoneMatch: nil).body == body)
            let slice = try await store.stream("k", ifNoneMatch: nil, range: ByteRange(first: 1000, last: 1999))
            #expect(try await slice.body.collect(upTo: 1 << 20) == body.getSlice(at: 1000, length: 1000))

            _ = try await store.put("k", body: bytes("small now"), options: PutOptions())
            #expect(try Self.files(directory).isEmpty)
            #expect(try await store.get("k", ifNoneMatch: nil).body == bytes("small now"))

            _ = try await store.put("k", body: Self.large(2), options: PutOptions())
            try await store.delete("k", ifMatch: nil)
            #expect(try Self.files(directory).isEmpty)
            await expectError(.notFound) { try await store.head("k", ifNoneMatch: nil) }
        }
    }

    @Test("a copy of a file-backed body is a hard link, and each outlives the other's deletion")
    func copyIsALink() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteObjectStore(directory: directory, inlineBodyBytes: Self.inline)
            let body = Self.large(3)
            _ = try await store.put("a", body: body, options: PutOptions())
            _ = try await store.copy(from: "a", to: "b", options: CopyOptions())
            let files = try Self.files(directory)
            #expect(files.count == 2)
            var status = stat()
            #expect(stat(directory + "/blobs/" + files[0], &status) == 0)
            #expect(status.st_nlink == 2)
            try await store.delete("a", ifMatch: nil)
            #expect(try await store.get("b", ifNoneMatch: nil).body == body)
            _ = try await store.copy(from: "b", to: "b", options: CopyOptions(replacing: ObjectAttributes(contentType: "x/z", metadata: [:])))
            #expect(try await store.get("b", ifNoneMatch: nil).body == body)
            #expect(try Self.files(directory).count == 1)
        }
    }

    @Test("a reader that has opened a body reads all of it while writers replace and delete it")
    func readerKeepsItsFile() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteObjectStore(directory: directory, inlineBodyBytes: Self.inline)
            let body = Self.large(4, count: 3 << 20)
            _ = try await store.put("k", body: body, options: PutOptions())
            let object = try await store.stream("k", ifNoneMatch: nil, range: nil)
            var iterator = object.body.makeAsyncIterator()
            var read = try #require(try await iterator.next())
            _ = try await store.put("k", body: Self.large(5, count: 2 << 20), options: PutOptions())
            try await store.delete("k", ifMatch: nil)
            while let chunk = try await iterator.next() { read.writeImmutableBuffer(chunk) }
            #expect(read == body)
            #expect(try Self.files(directory).isEmpty)
        }
    }

    @Test("a body that fails, ends short or runs over the limit leaves no file, partial or whole")
    func failedWritesLeaveNothing() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteObjectStore(directory: directory, inlineBodyBytes: Self.inline)
            struct Cut: Error {}
            let failing = AsyncThrowingStream<ByteBuffer, any Error> { continuation in
                continuation.yield(Self.large(6, count: 3 << 20))
                continuation.finish(throwing: Cut())
            }
            await #expect(throws: Cut.self) {
                _ = try await store.put("k", streaming: ObjectBody(failing, length: nil), options: PutOptions())
            }
            let short = AsyncStream<ByteBuffer> { continuation in
                continuation.yield(Self.large(7, count: 2 << 20))
                continuation.finish()
            }
            await expectError(.invalidArgument) {
                _ = try await store.put("k", streaming: ObjectBody(short, length: 3 << 20), options: PutOptions())
            }
            _ = try await store.put("k", body: Self.large(8), options: PutOptions())
            let losing = AsyncStream<ByteBuffer> { continuation in
                continuation.yield(Self.large(9, count: 2 << 20))
                continuation.finish()
            }
            await expectError(.preconditionFailed) {
                _ = try await store.put("k", streaming: ObjectBody(losing, length: nil), options: PutOptions(condition: .ifNoneExists))
            }
            #expect(try Self.files(directory).count == 1)
            #expect(try await store.get("k", ifNoneMatch: nil).body == Self.large(8))
        }
    }

    @Test("opening the store removes files a dead writer left, and keeps one a live writer holds")
    func orphansOfACrash() async throws {
        try await withTemporaryDirectory { directory in
            do {
                let store = try SQLiteObjectStore(directory: directory, inlineBodyBytes: Self.inline)
                _ = try await store.put("kept", body: Self.large(10), options: PutOptions())
                try store.close()
            }
            let blobs = directory + "/blobs/"
            for name in ["0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210.partial", "live.partial"] {
                #expect(FileManager.default.createFile(atPath: blobs + name, contents: Data("leftover".utf8)))
            }
            // Another process's writer at work: its lock is held on its own open file.
            let live = open(blobs + "live.partial", O_RDONLY)
            #expect(flock(live, LOCK_EX) == 0)
            do {
                let store = try SQLiteObjectStore(directory: directory, inlineBodyBytes: Self.inline)
                #expect(try Self.files(directory).count == 2)
                #expect(try Self.files(directory).contains("live.partial"))
                #expect(try await store.get("kept", ifNoneMatch: nil).body == Self.large(10))
                try store.close()
            }
            close(live)
            let store = try SQLiteObjectStore(directory: directory, inlineBodyBytes: Self.inline)
            #expect(try Self.files(directory).count == 1)
            #expect(try await store.get("kept", ifNoneMatch: nil).body == Self.large(10))
        }
    }

    /// One step of a random history: keys 0–2, small or large bodies.
    enum Step: Sendable, CustomStringConvertible {
        case put(key: Int, large: Bool, seed: UInt8)
        case copy(from: Int, to: Int)
        case delete(key: Int)

        static let generator = Gen.int(in: 0...255).array(of: 1...24).map { codes in
            codes.map { code -> Step in
                switch code % 4 {
                case 0, 1: .put(key: code / 4 % 3, large: code / 12 % 2 == 0, seed: UInt8(code))
                case 2: .copy(from: code / 4 % 3, to: code / 12 % 3)
                default: .delete(key: code / 4 % 3)
                }
            }
        }

        var description: String {
            switch self {
            case .put(let key, let large, _): "put(\(key), \(large ? "large" : "small"))"
            case .copy(let from, let to): "copy(\(from)→\(to))"
            case .delete(let key): "delete(\(key))"
            }
        }
    }

    @Test("under any history of puts, copies and deletes, every object reads back and files match large objects one to one")
    func randomHistories() async throws {
        await propertyCheck(count: 30, input: Step.generator) { steps in
            do {
                try await withTemporaryDirectory { directory in
                    let store = try SQLiteObjectStore(directory: directory, inlineBodyBytes: Self.inline)
                    var model: [Int: ByteBuffer] = [:]
                    for step in steps {
                        switch step {
                        case .put(let key, let large, let seed):
                            let body = large ? Self.large(seed, count: 2048 + Int(seed)) : ByteBuffer(bytes: [seed])
                            _ = try await store.put(ObjectName("k\(key)"), body: body, options: PutOptions())
                            model[key] = body
                        case .copy(let from, let to):
                            guard let body = model[from] else { continue }
                            _ = try await store.copy(from: ObjectName("k\(from)"), to: ObjectName("k\(to)"), options: CopyOptions())
                            model[to] = body
                        case .delete(let key):
                            try await store.delete(ObjectName("k\(key)"), ifMatch: nil)
                            model[key] = nil
                        }
                    }
                    for key in 0..<3 {
                        if let body = model[key] {
                            #expect(try await store.get(ObjectName("k\(key)"), ifNoneMatch: nil).body == body, "\(steps)")
                        } else {
                            await expectError(.notFound) { try await store.head(ObjectName("k\(key)"), ifNoneMatch: nil) }
                        }
                    }
                    let large = model.values.filter { $0.readableBytes > Self.inline }.count
                    #expect(try Self.files(directory).count == large, "\(steps)")
                }
            } catch {
                Issue.record("\(steps): \(error)")
            }
        }
    }
}
