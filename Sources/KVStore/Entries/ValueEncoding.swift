import NIOCore
import ObjectStore

/// How a value is laid out in its object: the value's bytes, then the 16 bytes of its write's
/// ``WriteID`` (the trailer), with the id's hex in the `write-id` metadata.
///
/// The trailer makes every write's bytes, and so its S3 ETag, unique: a rewrite of the same
/// value is a different object, so `If-Match`, a 304 revalidation, the sweeper's conditional
/// delete and a client's compare-and-swap all see it, on every backend, at no extra request.
/// The cost: an object under `kv/` or `versions/` is its value followed by 16 bytes, which other
/// S3 tools that read the bucket directly see too.
enum ValueEncoding {
    /// Bytes an object holds beyond its value.
    static let trailerBytes = WriteID.byteCount

    /// The object body for `value` written as `writeID`.
    static func body(_ value: ByteBuffer, writeID: WriteID) -> ByteBuffer {
        var body = ByteBufferAllocator().buffer(capacity: value.readableBytes + Self.trailerBytes)
        body.writeImmutableBuffer(value)
        body.writeBytes(writeID.bytes)
        return body
    }

    /// The value held by an object body with `metadata`; a body without a write id is all value.
    ///
    /// - Throws: ``KVError/Code/backendFailure`` when the body does not end with its write id:
    ///   it was not written by s3kv, or was altered.
    static func value(of body: ByteBuffer, metadata: EntryMetadata, name: ObjectName) throws(KVError) -> ByteBuffer {
        guard let writeID = metadata.writeID else { return body }
        guard body.readableBytes >= Self.trailerBytes,
            body.getBytes(at: body.readerIndex + body.readableBytes - Self.trailerBytes, length: Self.trailerBytes) == writeID.bytes
        else {
            throw KVError(
                .backendFailure, "the stored value was altered outside s3kv and is not served",
                detail: "the object '\(name)' does not end with its write id \(writeID)"
            )
        }
        return body.getSlice(at: body.readerIndex, length: body.readableBytes - Self.trailerBytes)!
    }

    /// The size of the value in an object of `objectSize` bytes with `metadata`.
    static func valueSize(objectSize: Int, metadata: EntryMetadata) -> Int {
        metadata.writeID == nil ? objectSize : max(0, objectSize - Self.trailerBytes)
    }

    /// The size of the object that holds a value of `valueSize` bytes, with its trailer when it
    /// has a write id.
    static func objectSize(valueSize: Int, writeID: WriteID?) -> Int {
        writeID == nil ? valueSize : valueSize + Self.trailerBytes
    }
}

extension ValueEncoding {
    /// The value's bytes of a streamed object body: everything but the trailer, which is held
    /// back as the bytes pass and checked against `writeID` at the end (a mismatch fails the
    /// stream, as an altered object is refused when read whole).
    static func valueStream(of body: ObjectBody, writeID: WriteID?, valueSize: Int) -> ObjectBody {
        guard let writeID else { return body }
        return ObjectBody(TrailerStripping(base: body, expected: writeID.bytes), length: valueSize)
    }

    struct TrailerStripping: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let base: ObjectBody
        let expected: [UInt8]

        func makeAsyncIterator() -> Iterator { Iterator(base: self.base.makeAsyncIterator(), expected: self.expected) }

        struct Iterator: AsyncIteratorProtocol {
            var base: ObjectBody.Iterator
            let expected: [UInt8]
            /// The last bytes seen, which may be the trailer.
            var held = ByteBuffer()
            /// A chunk's bytes due after the held ones just returned.
            var due: ByteBuffer?
            var finished = false

            mutating func next() async throws -> ByteBuffer? {
                if let due = self.due {
                    self.due = nil
                    return due
                }
                while !self.finished {
                    guard var chunk = try await self.base.next() else {
                        self.finished = true
                        guard self.held.readableBytesView.elementsEqual(self.expected) else {
                            throw KVError(.backendFailure, "the stored value was altered outside s3kv and is not served")
                        }
                        return nil
                    }
                    if chunk.readableBytes >= self.expected.count {
                        // The chunk's last bytes are held back as slices: a large chunk is never copied.
                        let body = chunk.readSlice(length: chunk.readableBytes - self.expected.count)!
                        let previous = self.held
                        self.held = chunk
                        if previous.readableBytes > 0 {
                            if body.readableBytes > 0 { self.due = body }
                            return previous
                        }
                        if body.readableBytes > 0 { return body }
                        continue
                    }
                    self.held.writeImmutableBuffer(chunk)
                    let releasable = self.held.readableBytes - self.expected.count
                    if releasable > 0 {
                        let out = self.held.readSlice(length: releasable)!
                        var rest = ByteBuffer()
                        rest.writeImmutableBuffer(self.held)
                        self.held = rest
                        return out
                    }
                }
                return nil
            }
        }
    }
}
