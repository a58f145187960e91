import Crypto
import Foundation
import NIOCore
import ObjectStore
import S3
import TestSupport
import Testing

/// Copies of sources over CopyObject's limit (5 GiB on S3), with the limit lowered to a few MiB
/// so the test moves little data: the copy is a multipart upload of UploadPartCopy ranges.
@Suite(.enabled(if: S3TestServer.isEnabled)) struct S3CopyTests {
    static func body(_ count: Int) -> ByteBuffer {
        ByteBuffer(bytes: (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) })
    }

    @Test("a copy over CopyObject's limit goes in parts, keeps body and attributes, and leaves no upload open")
    func copyInParts() async throws {
        let store = try await S3TestServer.store(bucket: "s3kv-copy", prefix: "t-\(UUID().uuidString)/", maximumCopyBytes: 6 << 20)
        defer { Task { try? await store.client.shutdown() } }
        let body = Self.body(13 << 20)
        let options = PutOptions(contentType: "application/x-big", metadata: ["kept": "yes"])
        let sourceETag = try await store.put("source", body: body, options: options)

        let etag = try await store.copy(from: "source", to: "copy", options: CopyOptions(sourceSize: body.readableBytes))
        // A multipart object's ETag names its part count: 13 MiB in parts of 6 MiB is three.
        #expect(etag.quoted.hasSuffix("-3\""), "\(etag)")
        let copied = try await store.get("copy", ifNoneMatch: nil)
        #expect(copied.body == body)
        #expect(copied.info.contentType == "application/x-big")
        #expect(copied.info.metadata == ["kept": "yes"])

        // Replaced attributes, and the pinned source ETag.
        let replacing = ObjectAttributes(contentType: "text/plain", metadata: ["new": "1"])
        _ = try await store.copy(
            from: "source", to: "replaced", options: CopyOptions(sourceIfMatch: sourceETag, replacing: replacing, sourceSize: body.readableBytes)
        )
        let head = try await store.head("replaced", ifNoneMatch: nil)
        #expect(head.contentType == "text/plain" && head.metadata == ["new": "1"] && head.size == body.readableBytes)
        await expectError(.preconditionFailed) {
            _ = try await store.copy(
                from: "source", to: "stale", options: CopyOptions(sourceIfMatch: ETag("\"other\""), sourceSize: body.readableBytes)
            )
        }
        await expectError(.notFound) { _ = try await store.head("stale", ifNoneMatch: nil) }
        #expect(try await store.incompleteUploads().isEmpty)

        // A source at or under the limit is one CopyObject, whose ETag is the source's.
        _ = try await store.put("small", body: Self.body(1 << 20), options: PutOptions())
        let small = try await store.copy(from: "small", to: "small-copy", options: CopyOptions(sourceSize: 1 << 20))
        #expect(small == ETag.md5(of: Self.body(1 << 20).readableBytesView))
    }
}
