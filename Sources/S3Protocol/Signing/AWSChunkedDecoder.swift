import Crypto
public import NIOCore
import WireFormat

/// Decodes an `aws-chunked` body (`Content-Encoding: aws-chunked`), the framing AWS SDKs and
/// CLIs use for streamed uploads: `hex-size[;chunk-signature=sig]\r\n data \r\n`, repeated, then
/// a zero-size chunk and, in the trailer variants, trailing headers such as a checksum.
///
/// It is fed the body as it arrives and hands back the payload bytes at once, so memory stays
/// bounded by one chunk header, whatever the body's size. With signing, every chunk's signature
/// is checked against the chain that starts at the request's own signature (the seed), and a
/// body whose chunks were altered, reordered, dropped or cut short fails before it ends.
public struct AWSChunkedDecoder {
    /// How the chunks are signed.
    public enum Signing: Sendable {
        /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`: each chunk carries a signature.
        case signed(seedSignature: String, timestamp: String, signer: SigV4Signer)
        /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: no chunk signatures.
        case unsigned
    }

    /// The longest chunk header or trailer line accepted.
    public static let maximumLineBytes = 4096
    /// The most trailer lines accepted.
    public static let maximumTrailerLines = 16

    private enum State {
        case header
        case data(remaining: Int)
        case dataEnd
        case trailer
        case done
    }

    private let signing: Signing
    private let expectsTrailer: Bool
    private var state = State.header
    private var line: [UInt8] = []
    private var previousSignature: String
    private var chunkSignature: String?
    private var chunkHash = SHA256()
    /// The trailing headers, lower-case names, once the body is complete.
    public private(set) var trailers: [(name: String, value: String)] = []

    public init(signing: Signing, expectsTrailer: Bool) {
        self.signing = signing
        self.expectsTrailer = expectsTrailer
        if case .signed(let seed, _, _) = signing { self.previousSignature = seed } else { self.previousSignature = "" }
    }

    /// Whether the final chunk (and any trailer) has been read.
    public var isComplete: Bool {
        if case .done = self.state { return true }
        return false
    }

    /// Consumes `input` and returns the payload bytes it completed, in order.
    public mutating func feed(_ input: ByteBuffer) throws(S3Error) -> [ByteBuffer] {
        var input = input
        var output: [ByteBuffer] = []
        while input.readableBytes > 0 {
            switch self.state {
            case .header:
                guard let line = try self.readLine(&input) else { continue }
                try self.startChunk(line)
            case .data(let remaining):
                let slice = input.readSlice(length: min(remaining, input.readableBytes))!
                slice.withUnsafeReadableBytes { self.chunkHash.update(bufferPointer: $0) }
                output.append(slice)
                self.state = remaining == slice.readableBytes ? .dataEnd : .data(remaining: remaining - slice.readableBytes)
            case .dataEnd:
                guard let line = try self.readLine(&input) else { continue }
                guard line.isEmpty else { throw Self.malformed("a chunk's data is longer than its declared size") }
                try self.endChunk()
                self.state = .header
            case .trailer:
                guard let line = try self.readLine(&input) else { continue }
                try self.trailerLine(line)
            case .done:
                throw Self.malformed("bytes follow the final chunk")
            }
        }
        return output
    }

    /// Checks that the body ended where the framing says it does.
    public func finish() throws(S3Error) {
        guard self.isComplete else { throw S3Error(code: "IncompleteBody", message: "the aws-chunked body ended before its final chunk", status: 400) }
    }

    // MARK: Steps

    /// A whole line without its CRLF, or nil when more bytes are needed.
    private mutating func readLine(_ input: inout ByteBuffer) throws(S3Error) -> [UInt8]? {
        while let byte = input.readInteger(as: UInt8.self) {
            if byte == UInt8(ascii: "\n") {
                guard self.line.last == UInt8(ascii: "\r") else { throw Self.malformed("a line does not end in CRLF") }
                defer { self.line = [] }
                return Array(self.line.dropLast())
            }
            self.line.append(byte)
            if self.line.count > Self.maximumLineBytes { throw Self.malformed("a chunk header is longer than \(Self.maximumLineBytes) bytes") }
        }
        return nil
    }

    private mutating func startChunk(_ line: [UInt8]) throws(S3Error) {
        let fields = line.split(separator: UInt8(ascii: ";"), maxSplits: 1, omittingEmptySubsequences: false)
        let sizeText = String(decoding: fields[0], as: UTF8.self)
        guard !sizeText.isEmpty, sizeText.utf8.count <= 16, let size = Int(sizeText, radix: 16), size >= 0 else {
            throw Self.malformed("a chunk size is not hexadecimal")
        }
        self.chunkSignature = nil
        if fields.count == 2 {
            let extensionText = String(decoding: fields[1], as: UTF8.self)
            guard extensionText.hasPrefix("chunk-signature=") else { throw Self.malformed("unknown chunk extension") }
            self.chunkSignature = String(extensionText.dropFirst("chunk-signature=".count))
        }
        if case .signed = self.signing, self.chunkSignature == nil {
            throw S3Error(code: "SignatureDoesNotMatch", message: "a chunk of a signed aws-chunked body has no signature", status: 403)
        }
        self.chunkHash = SHA256()
        if size > 0 {
            self.state = .data(remaining: size)
            return
        }
        try self.endChunk()
        // The final chunk is followed by the trailing headers, if any, and an empty line.
        self.state = .trailer
    }

    /// Checks the chunk just read against its signature.
    private mutating func endChunk() throws(S3Error) {
        guard case .signed(_, let timestamp, let signer) = self.signing, let signature = self.chunkSignature else { return }
        let stringToSign = [
            "AWS4-HMAC-SHA256-PAYLOAD", timestamp, signer.scope(timestamp), self.previousSignature, SigV4Signer.emptyPayloadHash,
            Hex.encode(self.chunkHash.finalize()),
        ].joined(separator: "\n")
        let expected = signer.signature(stringToSign: stringToSign, timestamp: timestamp)
        guard SigV4Verifier.constantTimeEqual(Array(signature.utf8), Array(expected.utf8)) else {
            throw S3Error(code: "SignatureDoesNotMatch", message: "a chunk signature of the aws-chunked body does not match", status: 403)
        }
        self.previousSignature = signature
        self.chunkSignature = nil
    }

    /// A trailer line; the empty line ends the body.
    private mutating func trailerLine(_ line: [UInt8]) throws(S3Error) {
        guard !line.isEmpty else {
            try self.checkTrailerSignature()
            self.state = .done
            return
        }
        guard self.expectsTrailer else { throw Self.malformed("a trailer follows a body that declared none") }
        guard self.trailers.count < Self.maximumTrailerLines, let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw Self.malformed("a trailer line is not 'name:value'")
        }
        let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
        let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingASCIISpaces
        self.trailers.append((name, value))
    }

    /// In the signed-trailer variant, the trailing headers carry a signature that chains from
    /// the final chunk's.
    private func checkTrailerSignature() throws(S3Error) {
        guard case .signed(_, let timestamp, let signer) = self.signing, self.expectsTrailer else { return }
        guard let signature = self.trailers.first(where: { $0.name == "x-amz-trailer-signature" })?.value else {
            throw S3Error(code: "SignatureDoesNotMatch", message: "the signed trailer has no x-amz-trailer-signature", status: 403)
        }
        let canonical = self.trailers.filter { $0.name != "x-amz-trailer-signature" }.map { "\($0.name):\($0.value)\n" }.joined()
        let stringToSign = [
            "AWS4-HMAC-SHA256-TRAILER", timestamp, signer.scope(timestamp), self.previousSignature,
            Hex.encode(SHA256.hash(data: Array(canonical.utf8))),
        ].joined(separator: "\n")
        let expected = signer.signature(stringToSign: stringToSign, timestamp: timestamp)
        guard SigV4Verifier.constantTimeEqual(Array(signature.utf8), Array(expected.utf8)) else {
            throw S3Error(code: "SignatureDoesNotMatch", message: "the trailer signature of the aws-chunked body does not match", status: 403)
        }
    }

    private static func malformed(_ reason: String) -> S3Error {
        S3Error(code: "InvalidChunkSizeError", message: "the aws-chunked body is malformed: \(reason)", status: 400)
    }
}

extension String {
    fileprivate var trimmingASCIISpaces: String {
        let bytes = Array(self.utf8)
        let start = bytes.firstIndex { $0 != 0x20 && $0 != 0x09 } ?? bytes.count
        let end = bytes.lastIndex { $0 != 0x20 && $0 != 0x09 }.map { $0 + 1 } ?? start
        return String(decoding: bytes[start..<max(start, end)], as: UTF8.self)
    }
}
