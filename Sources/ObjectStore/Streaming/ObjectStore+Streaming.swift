import NIOCore

/// The streaming half of the contract, with implementations for backends that hold bodies in
/// memory anyway: they collect a stream before storing it, and serve a range from the whole body.
/// Backends that can do better (S3, the embedded store) implement both themselves.
extension ObjectStore {
    /// Collects the stream, then stores it as one buffer.
    public func put(_ name: ObjectName, streaming body: ObjectBody, options: PutOptions) async throws -> ETag {
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: self.limits.maximumObjectBytes)
        } catch let error as ObjectBodyError {
            throw ObjectStoreError(.invalidArgument, error.description)
        }
        return try await self.put(name, body: buffer, options: options)
    }

    /// Reads the whole body, then serves it, or `range` of it, as one buffer.
    public func stream(_ name: ObjectName, ifNoneMatch: ETagMatch?, range: ByteRange?) async throws -> StreamedObject {
        let object = try await self.get(name, ifNoneMatch: ifNoneMatch)
        guard let range else { return StreamedObject(info: object.info, body: .buffered(object.body), range: nil) }
        let clamped = try Self.clamp(range, size: object.info.size, name: name)
        let slice = object.body.getSlice(at: object.body.readerIndex + clamped.first, length: clamped.count)!
        return StreamedObject(info: object.info, body: .buffered(slice), range: clamped)
    }

    /// `range` within an object of `size` bytes, as S3 answers it: the end is clamped, and a start
    /// past the end is an error (HTTP 416).
    public static func clamp(_ range: ByteRange, size: Int, name: ObjectName) throws -> ByteRange {
        guard range.first < size else {
            throw ObjectStoreError(.rangeNotSatisfiable, "the range \(range) starts past the end of '\(name)' (\(size) bytes)")
        }
        return ByteRange(first: range.first, last: min(range.last, size - 1))
    }
}
