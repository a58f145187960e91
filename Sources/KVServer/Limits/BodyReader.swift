import HTTPTypes
import Hummingbird
import NIOCore
import ObjectStore

/// Reads request bodies whole, within a size limit and the server's ``BufferBudget``, and turns
/// every way a body can fail to arrive into the client's error, never a 500.
struct BodyReader: Sendable {
    let budget: BufferBudget

    /// Reads `request`'s body and runs `use` with it; the bytes stay reserved in the budget until
    /// `use` returns.
    ///
    /// - Parameters:
    ///   - limit: the largest body accepted; a larger one is `tooLarge`, refused from its declared
    ///     length before any of it is read.
    ///   - expansion: how many times its size the body takes in memory once decoded (a batch's
    ///     JSON and base64 take about three), reserved with it.
    func withBody<Result>(
        _ request: Request,
        limit: Int,
        tooLarge: APIError,
        expansion: Int = 1,
        _ use: (ByteBuffer) async throws -> Result
    ) async throws -> Result {
        let declared = request.headers[.contentLength].flatMap(Int.init)
        if let declared, declared > limit { throw tooLarge }
        // A body still arriving at the deadline is a 408; one that stops arriving altogether is
        // ended by the connection's idle timeout (KV_IDLE_TIMEOUT). Racing the read against the
        // deadline in another task instead would leave that task unstoppable on shutdown.
        let (body, reserved) = try await self.read(request, declared: declared, limit: limit, tooLarge: tooLarge, expansion: expansion)
        defer { self.budget.release(reserved) }
        return try await use(body)
    }

    /// Reads the whole body within `limit`, reserving it in the budget; on any failure it gives
    /// back what it reserved.
    private func read(_ request: Request, declared: Int?, limit: Int, tooLarge: APIError, expansion: Int) async throws -> (ByteBuffer, Int) {
        var reserved = 0
        do {
            if let declared {
                try await self.reserve(declared * expansion)
                reserved = declared * expansion
            }
            var body = ByteBuffer()
            do {
                for try await chunk in request.body {
                    if Deadline.hasPassed { throw APIError.requestTimeout }
                    guard body.readableBytes + chunk.readableBytes <= limit else { throw tooLarge }
                    if declared == nil {
                        try await self.reserve(chunk.readableBytes * expansion)
                        reserved += chunk.readableBytes * expansion
                    }
                    body.writeImmutableBuffer(chunk)
                }
            } catch let error as APIError {
                throw error
            } catch let error as CancellationError {
                throw error
            } catch {
                // The connection closed before the declared length arrived, or the framing (a
                // chunk size, a length) is invalid: the client's request is at fault, not the server.
                throw APIError.malformedBody
            }
            if let declared, body.readableBytes != declared { throw APIError.malformedBody }
            return (body, reserved)
        } catch {
            self.budget.release(reserved)
            throw error
        }
    }

    func reserve(_ bytes: Int) async throws {
        do {
            try await self.budget.reserve(bytes)
        } catch let refusal as BufferBudget.Refusal {
            throw APIError.overloaded(
                refusal == .timedOut ? "too many request bodies are being read at once" : "the body is larger than the server's buffer budget"
            )
        }
    }
}
