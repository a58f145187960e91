import NIOCore
import Synchronization

/// Buffers that may be iterated once only, as a server's request body can: a second iterator
/// throws instead of sharing the first one's bytes (as `AsyncStream` would), so a store that
/// reads a body twice fails the test instead of passing by luck.
public struct ReadOnceBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    public struct SecondIteration: Error, CustomStringConvertible {
        public var description: String { "the body was iterated a second time" }
    }

    private final class Flag: Sendable {
        let iterated = Atomic<Bool>(false)
    }

    private let chunks: [ByteBuffer]
    private let flag = Flag()

    public init(_ chunks: [ByteBuffer]) {
        self.chunks = chunks
    }

    public func makeAsyncIterator() -> Iterator {
        let again = self.flag.iterated.exchange(true, ordering: .relaxed)
        return Iterator(chunks: again ? nil : self.chunks[...])
    }

    public struct Iterator: AsyncIteratorProtocol {
        var chunks: ArraySlice<ByteBuffer>?

        public mutating func next() async throws -> ByteBuffer? {
            guard var chunks = self.chunks else { throw SecondIteration() }
            defer { self.chunks = chunks }
            return chunks.popFirst()
        }
    }
}
