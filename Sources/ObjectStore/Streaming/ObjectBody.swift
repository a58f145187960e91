public import NIOCore

/// An object's body as it moves: a sequence of buffers, with its length when known.
///
/// Small bodies are one buffer in memory (``buffered(_:)``), which can be sent again on a retry.
/// Large ones are streams, read once, in bounded memory: from a client's request into the
/// backend, or from the backend out to a client, with backpressure either way.
public struct ObjectBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    /// The body's length in bytes, when known before it is read.
    public let length: Int?
    private let source: Source

    private enum Source: Sendable {
        case buffer(ByteBuffer)
        case stream(@Sendable () -> any AsyncIteratorProtocol<ByteBuffer, any Error>)
    }

    /// A body held in memory: its length is known and it can be read any number of times.
    public static func buffered(_ buffer: ByteBuffer) -> ObjectBody {
        ObjectBody(length: buffer.readableBytes, source: .buffer(buffer))
    }

    /// A body read once from `sequence`.
    ///
    /// - Parameter length: the length the sequence will produce, when known; a sequence that
    ///   produces another length fails the read with ``ObjectBodyError/lengthMismatch``.
    public init<Bytes: AsyncSequence & Sendable>(_ sequence: Bytes, length: Int?) where Bytes.Element == ByteBuffer {
        self.length = length
        self.source = .stream { ErasingIterator(base: sequence.makeAsyncIterator()) }
    }

    private init(length: Int?, source: Source) {
        self.length = length
        self.source = source
    }

    /// The whole body when it is held in memory; nil for a stream.
    public var buffer: ByteBuffer? {
        if case .buffer(let buffer) = self.source { return buffer }
        return nil
    }

    /// Whether the body can be read again (a retry can resend it).
    public var isReplayable: Bool { self.buffer != nil }

    /// Reads the whole body into one buffer.
    ///
    /// - Throws: ``ObjectBodyError/tooLarge`` past `limit` bytes.
    public func collect(upTo limit: Int) async throws -> ByteBuffer {
        if let buffer = self.buffer {
            guard buffer.readableBytes <= limit else { throw ObjectBodyError.tooLarge(limit: limit) }
            return buffer
        }
        var collected = ByteBuffer()
        for try await chunk in self {
            guard collected.readableBytes + chunk.readableBytes <= limit else { throw ObjectBodyError.tooLarge(limit: limit) }
            collected.writeImmutableBuffer(chunk)
        }
        return collected
    }

    /// This body followed by `suffix`, with the length both make. A stream stays a stream, read
    /// at its consumer's pace.
    public func appending(_ suffix: ByteBuffer) -> ObjectBody {
        if var buffer = self.buffer {
            buffer.writeImmutableBuffer(suffix)
            return .buffered(buffer)
        }
        return ObjectBody(Appended(base: self, suffix: suffix), length: self.length.map { $0 + suffix.readableBytes })
    }

    /// A body and then a buffer, pulled one chunk at a time (no task, no buffering ahead).
    private struct Appended: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let base: ObjectBody
        let suffix: ByteBuffer

        func makeAsyncIterator() -> AppendedIterator { AppendedIterator(base: self.base.makeAsyncIterator(), suffix: self.suffix) }
    }

    private struct AppendedIterator: AsyncIteratorProtocol {
        var base: ObjectBody.Iterator
        var suffix: ByteBuffer?

        mutating func next() async throws -> ByteBuffer? {
            if let chunk = try await self.base.next() { return chunk }
            defer { self.suffix = nil }
            return self.suffix.flatMap { $0.readableBytes > 0 ? $0 : nil }
        }
    }

    /// This body with each failure of its source replaced by `transform`'s, so a backend's
    /// transport errors reach callers in the storage contract's terms.
    public func mapError(_ transform: @escaping @Sendable (any Error) -> any Error) -> ObjectBody {
        if self.buffer != nil { return self }
        return ObjectBody(ErrorMapped(base: self, transform: transform), length: self.length)
    }

    private struct ErrorMapped: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let base: ObjectBody
        let transform: @Sendable (any Error) -> any Error

        func makeAsyncIterator() -> ErrorMappedIterator { ErrorMappedIterator(base: self.base.makeAsyncIterator(), transform: self.transform) }
    }

    private struct ErrorMappedIterator: AsyncIteratorProtocol {
        var base: ObjectBody.Iterator
        let transform: @Sendable (any Error) -> any Error

        mutating func next() async throws -> ByteBuffer? {
            do {
                return try await self.base.next()
            } catch let error as ObjectBodyError {
                throw error
            } catch {
                throw self.transform(error)
            }
        }
    }

    public func makeAsyncIterator() -> Iterator {
        switch self.source {
        case .buffer(let buffer): Iterator(remaining: buffer, stream: nil, expected: self.length)
        case .stream(let make): Iterator(remaining: nil, stream: make(), expected: self.length)
        }
    }

    /// Reads the buffers in turn, checking the total against the declared length.
    public struct Iterator: AsyncIteratorProtocol {
        var remaining: ByteBuffer?
        var stream: (any AsyncIteratorProtocol<ByteBuffer, any Error>)?
        let expected: Int?
        var produced = 0

        public mutating func next() async throws -> ByteBuffer? {
            if let buffer = self.remaining {
                self.remaining = nil
                return buffer.readableBytes > 0 ? buffer : nil
            }
            guard var stream = self.stream else { return nil }
            let chunk = try await stream.next()
            self.stream = stream
            if let chunk {
                self.produced += chunk.readableBytes
                if let expected, self.produced > expected { throw ObjectBodyError.lengthMismatch(expected: expected) }
                return chunk
            }
            if let expected, self.produced != expected { throw ObjectBodyError.lengthMismatch(expected: expected) }
            self.stream = nil
            return nil
        }
    }
}

/// An iterator of any sequence of buffers, with its failures as `any Error`.
private struct ErasingIterator<Base: AsyncIteratorProtocol>: AsyncIteratorProtocol where Base.Element == ByteBuffer {
    var base: Base

    mutating func next() async throws -> ByteBuffer? {
        try await self.base.next()
    }
}

/// Why a body could not be read as declared.
public enum ObjectBodyError: Error, Equatable, CustomStringConvertible {
    /// The body produced another number of bytes than its declared length.
    case lengthMismatch(expected: Int)
    /// The body is larger than the reader accepts.
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case .lengthMismatch(let expected): "the body did not have its declared length of \(expected) bytes"
        case .tooLarge(let limit): "the body is larger than \(limit) bytes"
        }
    }
}
