import Crypto
import Foundation
import Hummingbird
import NIOCore
import S3Protocol
import Synchronization
import WireFormat

/// What a PutObject body must prove by its end, from the request's headers.
struct BodyExpectations: Sendable {
    /// The bytes of the payload (after aws-chunked decoding).
    var length: Int
    /// The Content-MD5, decoded.
    var md5: [UInt8]?
    /// The hex SHA-256 the signature covers.
    var sha256: String?
    /// An `x-amz-checksum-*` value sent as a header.
    var checksum: (algorithm: ChecksumAlgorithm, value: String)?
    /// A checksum announced in `x-amz-trailer`, which arrives after the body.
    var trailerChecksum: ChecksumAlgorithm?
    /// The aws-chunked framing, when the body has it.
    var chunked: AWSChunkedDecoder.Signing?
}

/// A request body checked as it streams into the store: aws-chunked framing removed, its length,
/// Content-MD5, signed SHA-256 and checksum verified. A mismatch fails the stream at its end,
/// before the store commits, so a body that does not match what was declared is never stored.
struct VerifiedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let body: RequestBody
    let expectations: BodyExpectations
    /// The first failure, kept so the client hears its own error whatever the store made of it.
    let failure: FailureRecord

    final class FailureRecord: Sendable {
        private let error = Mutex<S3Error?>(nil)
        var recorded: S3Error? { self.error.withLock { $0 } }
        func record(_ error: S3Error) -> S3Error {
            self.error.withLock { if $0 == nil { $0 = error } }
            return error
        }
    }

    func makeAsyncIterator() -> Iterator {
        Iterator(base: self.body.makeAsyncIterator(), expectations: self.expectations, failure: self.failure)
    }

    struct Iterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let expectations: BodyExpectations
        let failure: FailureRecord
        var decoder: AWSChunkedDecoder?
        var pending: [ByteBuffer] = []
        var received = 0
        var md5: Insecure.MD5?
        var sha256: SHA256?
        var checksum: ChecksumHasher?
        var finished = false

        init(base: RequestBody.AsyncIterator, expectations: BodyExpectations, failure: FailureRecord) {
            self.base = base
            self.expectations = expectations
            self.failure = failure
            self.decoder = expectations.chunked.map { AWSChunkedDecoder(signing: $0, expectsTrailer: expectations.trailerChecksum != nil) }
            self.md5 = expectations.md5 == nil ? nil : Insecure.MD5()
            self.sha256 = expectations.sha256 == nil ? nil : SHA256()
            self.checksum = (expectations.checksum?.algorithm ?? expectations.trailerChecksum)?.makeHasher()
        }

        mutating func next() async throws -> ByteBuffer? {
            while true {
                if !self.pending.isEmpty {
                    let chunk = self.pending.removeFirst()
                    try self.account(chunk)
                    return chunk
                }
                if self.finished { return nil }
                let chunk: ByteBuffer?
                do {
                    chunk = try await self.base.next()
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    throw self.failure.record(S3Error(code: "IncompleteBody", message: "You did not provide the number of bytes specified by the Content-Length HTTP header.", status: 400))
                }
                guard let chunk else {
                    self.finished = true
                    try self.finish()
                    return nil
                }
                if self.decoder != nil {
                    do {
                        self.pending = try self.decoder!.feed(chunk)
                    } catch {
                        throw self.failure.record(error)
                    }
                } else {
                    self.pending = [chunk]
                }
            }
        }

        private mutating func account(_ chunk: ByteBuffer) throws {
            self.received += chunk.readableBytes
            if self.received > self.expectations.length {
                throw self.failure.record(S3Error(code: "IncompleteBody", message: "the body is longer than its declared length", status: 400))
            }
            chunk.withUnsafeReadableBytes { bytes in
                self.md5?.update(bufferPointer: bytes)
                self.sha256?.update(bufferPointer: bytes)
                self.checksum?.update(bytes)
            }
        }

        private func finish() throws {
            if let decoder {
                do { try decoder.finish() } catch { throw self.failure.record(error) }
            }
            guard self.received == self.expectations.length else {
                throw self.failure.record(S3Error(code: "IncompleteBody", message: "You did not provide the number of bytes specified by the Content-Length HTTP header.", status: 400))
            }
            if let expected = self.expectations.md5, let md5, Array(md5.finalize()) != expected {
                throw self.failure.record(S3Error(code: "BadDigest", message: "The Content-MD5 you specified did not match what we received.", status: 400))
            }
            if let expected = self.expectations.sha256, let sha256, Hex.encode(sha256.finalize()) != expected {
                throw self.failure.record(S3Error(code: "XAmzContentSHA256Mismatch", message: "The provided 'x-amz-content-sha256' header does not match what was computed.", status: 400))
            }
            if let checksum {
                let algorithm = self.expectations.checksum?.algorithm ?? self.expectations.trailerChecksum!
                let expected = self.expectations.checksum?.value ?? self.decoder?.trailers.first { $0.name == algorithm.headerName }?.value
                guard let expected else {
                    throw self.failure.record(S3Error(code: "InvalidRequest", message: "the trailer announced \(algorithm.headerName) but did not carry it", status: 400))
                }
                if checksum.finalize() != expected {
                    throw self.failure.record(S3Error(code: "BadDigest", message: "The \(algorithm.name) you specified did not match the calculated checksum.", status: 400))
                }
            }
        }
    }
}
