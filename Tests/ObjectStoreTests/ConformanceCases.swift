import Crypto
import Foundation
import NIOCore
import ObjectStore
import S3
import PropertyBased
import TestSupport
import Testing

/// The storage contract, case by case. Every backend must pass all of them.
enum Conformance {
    static let cases: [ConformanceCase] = objectCases + conditionCases + listingCases + identityCases + streamingCases

    static let objectCases: [ConformanceCase] = [
        .init(name: "put then get returns the exact bytes, type, metadata and MD5 ETag") { c in
            let body = ByteBuffer(bytes: Array(0...255) + Array(0...255).reversed())
            let options = PutOptions(contentType: "image/x-test", metadata: ["created-at": "1700000000000", "version": "7"])
            let etag = try await c.store.put(c.key("binary"), body: body, options: options)
            #expect(etag == ETag.md5(of: body.readableBytesView))
            let object = try await c.store.get(c.key("binary"), ifNoneMatch: nil)
            #expect(object.body == body)
            #expect(object.info.name == c.key("binary"))
            #expect(object.info.size == 512)
            #expect(object.info.etag == etag)
            #expect(object.info.contentType == "image/x-test")
            #expect(object.info.metadata == options.metadata)
            #expect(abs(object.info.lastModified.timeIntervalSinceNow) < 300)
        },
        .init(name: "head reports what get reports, without the body") { c in
            _ = try await c.store.put(c.key("h"), body: bytes("hello"), options: PutOptions(contentType: "text/plain", metadata: ["a": "b"]))
            let object = try await c.store.get(c.key("h"), ifNoneMatch: nil)
            let info = try await c.store.head(c.key("h"), ifNoneMatch: nil)
            #expect(info.size == 5)
            #expect(info.etag == object.info.etag)
            #expect(info.contentType == "text/plain")
            #expect(info.metadata == ["a": "b"])
        },
        .init(name: "put overwrites, and an empty body is a value") { c in
            _ = try await c.store.put(c.key("o"), body: bytes("first"), options: PutOptions())
            let etag = try await c.store.put(c.key("o"), body: ByteBuffer(), options: PutOptions())
            let object = try await c.store.get(c.key("o"), ifNoneMatch: nil)
            #expect(object.body.readableBytes == 0)
            #expect(object.info.etag == etag)
            #expect(etag == ETag("\"d41d8cd98f00b204e9800998ecf8427e\""))
        },
        .init(name: "missing objects are notFound for get and head") { c in
            await expectError(.notFound) { try await c.store.get(c.key("missing"), ifNoneMatch: nil) }
            await expectError(.notFound) { try await c.store.head(c.key("missing"), ifNoneMatch: nil) }
        },
        .init(name: "delete removes; deleting a missing object succeeds") { c in
            _ = try await c.store.put(c.key("d"), body: bytes("x"), options: PutOptions())
            try await c.store.delete(c.key("d"), ifMatch: nil)
            await expectError(.notFound) { try await c.store.head(c.key("d"), ifNoneMatch: nil) }
            try await c.store.delete(c.key("d"), ifMatch: nil)
        },
        .init(name: "copy duplicates body and attributes, or replaces the attributes") { c in
            let etag = try await c.store.put(c.key("src"), body: bytes("payload"), options: PutOptions(contentType: "text/a", metadata: ["m": "1"]))
            let copied = try await c.store.copy(from: c.key("src"), to: c.key("dst"), options: CopyOptions())
            #expect(copied == etag)
            let copy = try await c.store.get(c.key("dst"), ifNoneMatch: nil)
            #expect(copy.body == bytes("payload"))
            #expect(copy.info.contentType == "text/a")
            #expect(copy.info.metadata == ["m": "1"])
            let replacing = CopyOptions(replacing: ObjectAttributes(contentType: "text/b", metadata: ["m": "2"]))
            _ = try await c.store.copy(from: c.key("src"), to: c.key("dst2"), options: replacing)
            let replaced = try await c.store.head(c.key("dst2"), ifNoneMatch: nil)
            #expect(replaced.contentType == "text/b")
            #expect(replaced.metadata == ["m": "2"])
            await expectError(.notFound) { try await c.store.copy(from: c.key("none"), to: c.key("x"), options: CopyOptions()) }
        },
        .init(name: "copy with a stale source-if-match fails where the backend honours it") { c in
            _ = try await c.store.put(c.key("src"), body: bytes("v1"), options: PutOptions())
            let stale = ETag("\"00000000000000000000000000000000\"")
            guard c.honoursCopySourceIfMatch else { return }
            await expectError(.preconditionFailed) {
                try await c.store.copy(from: c.key("src"), to: c.key("dst"), options: CopyOptions(sourceIfMatch: stale))
            }
        },
        .init(name: "metadata over 2 KB is an invalid argument") { c in
            let metadata = ["big": String(repeating: "x", count: 2100)]
            await expectError(.invalidArgument) {
                try await c.store.put(c.key("meta"), body: bytes("x"), options: PutOptions(metadata: metadata))
            }
        },
        .init(name: "deleteMany deletes present and absent keys and reports all as deleted") { c in
            for name in ["1", "2", "3"] { _ = try await c.store.put(c.key(name), body: bytes(name), options: PutOptions()) }
            let result = try await c.store.deleteMany([c.key("1"), c.key("2"), c.key("never")])
            #expect(Set(result.deleted) == [c.key("1"), c.key("2"), c.key("never")])
            #expect(result.failed.isEmpty)
            await expectError(.notFound) { try await c.store.head(c.key("1"), ifNoneMatch: nil) }
            _ = try await c.store.head(c.key("3"), ifNoneMatch: nil)
            let tooMany = (0...DeleteManyResult.maximumKeys).map { c.key("k\($0)") }
            await expectError(.invalidArgument) { try await c.store.deleteMany(tooMany) }
        },
    ]

    static let conditionCases: [ConformanceCase] = [
        .init(name: "If-None-Match: * creates once, then fails") { c in
            _ = try await c.store.put(c.key("once"), body: bytes("a"), options: PutOptions(condition: .ifNoneExists))
            await expectError(.preconditionFailed) {
                try await c.store.put(c.key("once"), body: bytes("b"), options: PutOptions(condition: .ifNoneExists))
            }
            #expect(try await c.store.get(c.key("once"), ifNoneMatch: nil).body == bytes("a"))
        },
        .init(name: "If-Match swaps on the current ETag only; a missing key is notFound") { c in
            let first = try await c.store.put(c.key("cas"), body: bytes("1"), options: PutOptions())
            let second = try await c.store.put(c.key("cas"), body: bytes("2"), options: PutOptions(condition: .ifMatch(first)))
            await expectError(.preconditionFailed) {
                try await c.store.put(c.key("cas"), body: bytes("3"), options: PutOptions(condition: .ifMatch(first)))
            }
            #expect(try await c.store.head(c.key("cas"), ifNoneMatch: nil).etag == second)
            await expectError(.notFound) {
                try await c.store.put(c.key("absent"), body: bytes("x"), options: PutOptions(condition: .ifMatch(first)))
            }
        },
        .init(name: "get and head with a matching If-None-Match are notModified") { c in
            let etag = try await c.store.put(c.key("c"), body: bytes("cached"), options: PutOptions())
            await expectError(.notModified) { try await c.store.get(c.key("c"), ifNoneMatch: .oneOf([etag])) }
            await expectError(.notModified) { try await c.store.head(c.key("c"), ifNoneMatch: .oneOf([etag])) }
            let other = ETag("\"ffffffffffffffffffffffffffffffff\"")
            #expect(try await c.store.get(c.key("c"), ifNoneMatch: .oneOf([other])).body == bytes("cached"))
        },
        .init(name: "delete with If-Match: stale is preconditionFailed, missing is notFound") { c in
            let etag = try await c.store.put(c.key("del"), body: bytes("1"), options: PutOptions())
            let stale = ETag("\"ffffffffffffffffffffffffffffffff\"")
            await expectError(.preconditionFailed) { try await c.store.delete(c.key("del"), ifMatch: stale) }
            try await c.store.delete(c.key("del"), ifMatch: etag)
            await expectError(.notFound) { try await c.store.head(c.key("del"), ifNoneMatch: nil) }
            await expectError(.notFound) { try await c.store.delete(c.key("del"), ifMatch: etag) }
        },
    ]

    static let listingCases: [ConformanceCase] = [
        .init(name: "listing is in UTF-8 byte order and pages join up exactly") { c in
            let names = ["a", "B", "b", "a/b", "a-b", "é", "z", "~", "ab", "aa", "a b", "Z9", "0", "日本", "😀"]
            for name in names { _ = try await c.store.put(c.key(name), body: bytes(name), options: PutOptions()) }
            let expected = names.map(c.key).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for pageSize in [1, 4, 15, 1000] {
                let listed = try await c.store.listAll(prefix: c.prefix, pageSize: pageSize)
                #expect(listed.keys == expected, "page size \(pageSize)")
                #expect(listed.pages == max(1, (expected.count + pageSize - 1) / pageSize), "page size \(pageSize)")
            }
        },
        .init(name: "listing reports size, ETag and last-modified") { c in
            let etag = try await c.store.put(c.key("one"), body: bytes("12345"), options: PutOptions())
            let page = try await c.store.list(ListRequest(prefix: c.prefix))
            #expect(page.objects.map(\.name) == [c.key("one")])
            #expect(page.objects.first?.size == 5)
            #expect(page.objects.first?.etag == etag)
            #expect(page.isTruncated == false)
        },
        .init(name: "an empty prefix range lists nothing") { c in
            let page = try await c.store.list(ListRequest(prefix: c.key("nothing-here/")))
            #expect(page.objects.isEmpty)
            #expect(page.commonPrefixes.isEmpty)
            #expect(page.nextContinuationToken == nil)
        },
        .init(name: "start-after is exclusive and need not exist") { c in
            for name in ["a", "b", "c", "d"] { _ = try await c.store.put(c.key(name), body: bytes(name), options: PutOptions()) }
            let page = try await c.store.list(ListRequest(prefix: c.prefix, startAfter: c.key("b")))
            #expect(page.objects.map(\.name) == [c.key("c"), c.key("d")])
            let between = try await c.store.list(ListRequest(prefix: c.prefix, startAfter: c.key("bb")))
            #expect(between.objects.map(\.name) == [c.key("c"), c.key("d")])
        },
        .init(name: "a delimiter groups keys into common prefixes, across pages") { c in
            for name in ["a/1", "a/2", "a/3/x", "b", "c/x/y", "d"] {
                _ = try await c.store.put(c.key(name), body: bytes(name), options: PutOptions())
            }
            for pageSize in [1, 2, 1000] {
                let listed = try await c.store.listAll(prefix: c.prefix, pageSize: pageSize, delimiter: "/")
                #expect(listed.keys == [c.key("b"), c.key("d")], "page size \(pageSize)")
                #expect(listed.prefixes == [c.key("a/"), c.key("c/")], "page size \(pageSize)")
            }
            let nested = try await c.store.listAll(prefix: c.key("a/"), pageSize: 1000, delimiter: "/")
            #expect(nested.keys == [c.key("a/1"), c.key("a/2")])
            #expect(nested.prefixes == [c.key("a/3/")])
        },
    ]

    /// Names are bytes: canonically equivalent names are different objects on every backend.
    static let identityCases: [ConformanceCase] = [
        .init(name: "canonically equivalent names are different objects: put, get, list and delete each alone") { c in
            let composed = c.key("x\u{E9}")  // é as one scalar
            let decomposed = c.key("xe\u{301}")  // e and a combining acute
            #expect(composed.string == decomposed.string, "Swift calls the texts equal")
            #expect(composed != decomposed)
            _ = try await c.store.put(composed, body: bytes("AAAA"), options: PutOptions())
            _ = try await c.store.put(decomposed, body: bytes("BBBB"), options: PutOptions())
            #expect(try await c.store.get(composed, ifNoneMatch: nil).body == bytes("AAAA"))
            #expect(try await c.store.get(decomposed, ifNoneMatch: nil).body == bytes("BBBB"))
            #expect(try await c.store.listAll(prefix: c.prefix, pageSize: 1).keys == [decomposed, composed])
            try await c.store.delete(composed, ifMatch: nil)
            await expectError(.notFound) { try await c.store.head(composed, ifNoneMatch: nil) }
            #expect(try await c.store.get(decomposed, ifNoneMatch: nil).body == bytes("BBBB"))
            _ = try await c.store.deleteMany([decomposed])
            #expect(try await c.store.listAll(prefix: c.prefix, pageSize: 10).keys.isEmpty)
        },
        .init(name: "a '/' followed by a combining mark is still a delimiter, and prefixes match by bytes") { c in
            for name in ["a/\u{301}b", "a/c", "\u{301}zz1", "zz1"] {
                _ = try await c.store.put(c.key(name), body: bytes(name), options: PutOptions())
            }
            let grouped = try await c.store.listAll(prefix: c.prefix, pageSize: 1000, delimiter: "/")
            #expect(grouped.prefixes == [c.key("a/")])
            #expect(grouped.keys == [c.key("zz1"), c.key("\u{301}zz1")])
            let marked = try await c.store.listAll(prefix: c.key("\u{301}"), pageSize: 1000)
            #expect(marked.keys == [c.key("\u{301}zz1")])
            let after = try await c.store.list(ListRequest(prefix: c.prefix, startAfter: c.key("zz")))
            #expect(after.objects.map(\.name) == [c.key("zz1"), c.key("\u{301}zz1")])
        },
        .init(name: "property: hostile names each keep their own body, and a listing returns each once, in byte order") { c in
            await propertyCheck(count: 12, input: HostileText.names(2...8)) { names in
                let base = c.key("p-\(UUID().uuidString)/")
                for (index, name) in names.enumerated() {
                    _ = try await c.store.put(base + ObjectName(name), body: bytes("\(index)"), options: PutOptions())
                }
                for (index, name) in names.enumerated() {
                    #expect(try await c.store.get(base + ObjectName(name), ifNoneMatch: nil).body == bytes("\(index)"), "\(Array(name.utf8))")
                }
                let expected = names.map { base + ObjectName($0) }.sorted()
                for pageSize in [1, 3, 1000] {
                    #expect(try await c.store.listAll(prefix: base, pageSize: pageSize).keys == expected, "page size \(pageSize)")
                }
                // Common prefixes split at the first byte 0x2F after the prefix, whatever follows it.
                let grouped = try await c.store.listAll(prefix: base, pageSize: 1000, delimiter: "/")
                let slash = UInt8(ascii: "/")
                let expectedPrefixes = Set(names.compactMap { name -> ObjectName? in
                    guard let end = name.utf8.firstIndex(of: slash) else { return nil }
                    return base + ObjectName(String(name.utf8[...end])!)
                })
                #expect(grouped.prefixes == expectedPrefixes.sorted())
                #expect(grouped.keys == names.filter { !$0.utf8.contains(slash) }.map { base + ObjectName($0) }.sorted())
                _ = try await c.store.deleteMany(expected)
                #expect(try await c.store.listAll(prefix: base, pageSize: 1000).keys.isEmpty)
            }
        },
    ]

    /// Bodies as streams: several S3 parts' worth, of unknown length, ranges, and a stream that
    /// fails mid-way leaving nothing behind.
    static let streamingCases: [ConformanceCase] = [
        .init(name: "a streamed body of unknown length is stored and streamed back with the same SHA-256") { c in
            let (body, digest) = Self.stream(bytes: 12 << 20, chunk: 64 << 10, seed: 1)
            _ = try await c.store.put(c.key("big"), streaming: ObjectBody(body, length: nil), options: PutOptions(contentType: "x/big"))
            let object = try await c.store.stream(c.key("big"), ifNoneMatch: nil, range: nil)
            #expect(object.info.size == 12 << 20 && object.info.contentType == "x/big" && object.range == nil)
            var hasher = SHA256()
            var total = 0
            for try await chunk in object.body {
                hasher.update(data: Array(chunk.readableBytesView))
                total += chunk.readableBytes
            }
            #expect(total == 12 << 20)
            #expect(Array(hasher.finalize()) == digest)
        },
        .init(name: "a streamed body of known length under the multipart threshold is read once and stored whole") { c in
            let bytes = (0..<((2 << 20) + 17)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
            let chunks = Self.chunks(of: bytes)
            let etag = try await c.store.put(c.key("medium"), streaming: ObjectBody(ReadOnceBody(chunks), length: bytes.count), options: PutOptions())
            // One PutObject on S3; hashed as it is written on the embedded store.
            #expect(etag == ETag.md5(of: bytes))
            let object = try await c.store.get(c.key("medium"), ifNoneMatch: nil)
            #expect(object.body == ByteBuffer(bytes: bytes) && object.info.etag == etag)
        },
        .init(name: "a streamed write that names its entity tag keeps it where the store accepts tags, and is refused where not") { c in
            let bytes = (0..<((2 << 20) + 5)).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
            let chunks = Self.chunks(of: bytes)
            let tag = ETag("\"0123456789abcdef0123456789abcdef\"")
            let options = PutOptions(entityTag: tag)
            guard c.store.limits.acceptsEntityTags else {
                await expectError(.invalidArgument) {
                    try await c.store.put(c.key("tagged"), streaming: ObjectBody(ReadOnceBody(chunks), length: bytes.count), options: options)
                }
                return
            }
            let etag = try await c.store.put(c.key("tagged"), streaming: ObjectBody(ReadOnceBody(chunks), length: bytes.count), options: options)
            #expect(etag == tag)
            #expect(try await c.store.head(c.key("tagged"), ifNoneMatch: nil).etag == tag)
            let object = try await c.store.stream(c.key("tagged"), ifNoneMatch: nil, range: nil)
            #expect(try await object.body.collect(upTo: 4 << 20) == ByteBuffer(bytes: bytes))
        },
        .init(name: "ranges: a middle run, a run past the end clamped, a start past the end refused") { c in
            let bytes = ByteBuffer(bytes: (0..<1000).map { UInt8($0 % 251) })
            _ = try await c.store.put(c.key("r"), body: bytes, options: PutOptions())
            let middle = try await c.store.stream(c.key("r"), ifNoneMatch: nil, range: ByteRange(first: 100, last: 199))
            #expect(middle.range == ByteRange(first: 100, last: 199) && middle.info.size == 1000)
            #expect(try await middle.body.collect(upTo: 1000) == bytes.getSlice(at: 100, length: 100)!)
            let tail = try await c.store.stream(c.key("r"), ifNoneMatch: nil, range: ByteRange(first: 990, last: 5000))
            #expect(tail.range == ByteRange(first: 990, last: 999))
            #expect(try await tail.body.collect(upTo: 1000) == bytes.getSlice(at: 990, length: 10)!)
            await expectError(.rangeNotSatisfiable) { try await c.store.stream(c.key("r"), ifNoneMatch: nil, range: ByteRange(first: 1000, last: 1001)) }
        },
        .init(name: "a stream that fails mid-way stores nothing, and leaves no incomplete upload") { c in
            let failing = AsyncThrowingStream<ByteBuffer, any Error> { continuation in
                for index in 0..<7 { continuation.yield(ByteBuffer(repeating: UInt8(index), count: 1 << 20)) }
                continuation.finish(throwing: CancellationError())
            }
            do {
                _ = try await c.store.put(c.key("cut"), streaming: ObjectBody(failing, length: 12 << 20), options: PutOptions())
                Issue.record("a failed stream was stored")
            } catch {}
            await expectError(.notFound) { try await c.store.head(c.key("cut"), ifNoneMatch: nil) }
            if let s3 = c.store as? S3ObjectStore {
                let incomplete = try await s3.incompleteUploads(prefix: c.prefix)
                #expect(incomplete.isEmpty)
            }
        },
        .init(name: "a streamed body shorter than its declared length stores nothing") { c in
            let short = AsyncThrowingStream<ByteBuffer, any Error> { continuation in
                continuation.yield(ByteBuffer(repeating: 1, count: 100))
                continuation.finish()
            }
            do {
                _ = try await c.store.put(c.key("short"), streaming: ObjectBody(short, length: 200), options: PutOptions())
                Issue.record("a short stream was stored")
            } catch {}
            await expectError(.notFound) { try await c.store.head(c.key("short"), ifNoneMatch: nil) }
        },
    ]

    /// `bytes` pseudo-random bytes in chunks, and their SHA-256: one random chunk, each copy
    /// stamped with its index, so making many megabytes costs little in a debug build.
    /// `bytes` in buffers of 64 KiB, as a request body arrives.
    static func chunks(of bytes: [UInt8]) -> [ByteBuffer] {
        stride(from: 0, to: bytes.count, by: 64 << 10).map { ByteBuffer(bytes: bytes[$0..<min($0 + (64 << 10), bytes.count)]) }
    }

    static func stream(bytes: Int, chunk: Int, seed: UInt64) -> (AsyncStream<ByteBuffer>, [UInt8]) {
        var generator = SeededGenerator(state: seed)
        let block = (0..<chunk).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var hasher = SHA256()
        var chunks: [ByteBuffer] = []
        var remaining = bytes
        var index: UInt32 = 0
        while remaining > 0 {
            let count = min(chunk, remaining)
            var data = Array(block.prefix(count))
            withUnsafeBytes(of: index.bigEndian) { stamp in
                for (offset, byte) in stamp.enumerated() where offset < count { data[offset] = byte }
            }
            hasher.update(data: data)
            chunks.append(ByteBuffer(bytes: data))
            remaining -= count
            index += 1
        }
        let stream = AsyncStream<ByteBuffer> { continuation in
            for chunk in chunks { continuation.yield(chunk) }
            continuation.finish()
        }
        return (stream, Array(hasher.finalize()))
    }
}

/// A deterministic generator, so a failing case repeats.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        self.state = self.state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return self.state
    }
}
