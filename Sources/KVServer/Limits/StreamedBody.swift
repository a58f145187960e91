import Hummingbird
import NIOCore
import ObjectStore
import Synchronization

/// A request body passed on as it arrives, for values a backend stores from a stream: never
/// held whole, read at the pace the backend takes it.
///
/// Every way the body can fail to arrive as declared (a client that sends less than its
/// `Content-Length` and closes, a disconnect, broken chunk framing, more bytes than the limit)
/// ends the stream with the client's error, which is also kept in ``failure``: the layers
/// below abort what they started and may report the failure in their own terms, but the
/// client is told what it did.
struct StreamedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let body: RequestBody
    /// The declared `Content-Length`, checked exactly; nil for a chunked body.
    let declared: Int?
    /// The most bytes accepted.
    let limit: Int
    let tooLarge: APIError
    let failure: BodyFailure

    /// The first error the body ended with, if any.
    final class BodyFailure: Sendable {
        private let error = Mutex<APIError?>(nil)

        var recorded: APIError? { self.error.withLock { $0 } }

        func record(_ error: APIError) -> APIError {
            self.error.withLock { if $0 == nil { $0 = error } }
            return error
        }
    }

    func makeAsyncIterator() -> Iterator {
        Iterator(base: self.body.makeAsyncIterator(), declared: self.declared, limit: self.limit, tooLarge: self.tooLarge, failure: self.failure)
    }

    struct Iterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let declared: Int?
        let limit: Int
        let tooLarge: APIError
        let failure: BodyFailure
        var received = 0

        mutating func next() async throws -> ByteBuffer? {
            let chunk: ByteBuffer?
            do {
                chunk = try await self.base.next()
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // The connection closed mid-body or its framing is invalid.
                throw self.failure.record(.malformedBody)
            }
            guard let chunk else {
                if let declared, self.received != declared { throw self.failure.record(.malformedBody) }
                return nil
            }
            self.received += chunk.readableBytes
            if self.received > self.limit { throw self.failure.record(self.tooLarge) }
            if let declared, self.received > declared { throw self.failure.record(.malformedBody) }
            return chunk
        }
    }
}

extension BodyReader {
    /// Runs `use` with a value's body as a stream, holding `reservation` bytes of the budget
    /// (what the backend buffers for one streamed upload) until it returns.
    ///
    /// The request deadline is extended by `allowance` for the transfer: a large body cannot
    /// arrive within a deadline sized for small requests. A body that stops arriving is still
    /// ended by the connection's idle timeout.
    ///
    /// - Throws: the client's error (``APIError/malformedBody``, `tooLarge`) when the body failed
    ///   to arrive as declared, whatever `use` made of that failure.
    func withStreamedBody<Result>(
        _ request: Request,
        limit: Int,
        tooLarge: APIError,
        reservation: Int,
        allowance: Duration,
        _ use: (ObjectBody) async throws -> Result
    ) async throws -> Result {
        let declared = request.headers[.contentLength].flatMap(Int.init)
        if let declared, declared > limit { throw tooLarge }
        let reserved = min(reservation, declared ?? reservation)
        try await self.reserve(reserved)
        defer { self.budget.release(reserved) }
        let failure = StreamedBody.BodyFailure()
        let body = ObjectBody(StreamedBody(body: request.body, declared: declared, limit: limit, tooLarge: tooLarge, failure: failure), length: declared)
        do {
            guard let deadline = Deadline.current else { return try await use(body) }
            return try await Deadline.$current.withValue(deadline + allowance) { try await use(body) }
        } catch {
            if let recorded = failure.recorded { throw recorded }
            throw error
        }
    }
}
