import Foundation
import NIOCore
import PropertyBased
import S3Protocol
import Testing
import WireFormat

/// aws-chunked bodies: AWS's signed-chunk example decodes and verifies in any split, and every
/// alteration is refused.
@Suite struct AWSChunkedDecoderTests {
    static let timestamp = "20130524T000000Z"
    static let signer = SigV4Signer(credentials: SigV4VerifierTests.example, region: "us-east-1")
    static let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"

    /// The body of AWS's example ("Signature Calculations: Transferring Payload in Multiple
    /// Chunks"): 64 KiB and 1 KiB of 'a', then the final chunk.
    static let exampleBody: [UInt8] = {
        var body: [UInt8] = []
        body += Array("10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n".utf8)
        body += [UInt8](repeating: UInt8(ascii: "a"), count: 65536) + Array("\r\n".utf8)
        body += Array("400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n".utf8)
        body += [UInt8](repeating: UInt8(ascii: "a"), count: 1024) + Array("\r\n".utf8)
        body += Array("0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n".utf8)
        return body
    }()

    static func decode(_ body: [UInt8], splits: [Int] = [], signing: AWSChunkedDecoder.Signing, trailer: Bool = false) throws -> ([UInt8], AWSChunkedDecoder) {
        var decoder = AWSChunkedDecoder(signing: signing, expectsTrailer: trailer)
        var output: [UInt8] = []
        var start = 0
        for end in (splits.map { min(max($0, 0), body.count) }.sorted() + [body.count]) where end >= start {
            for buffer in try decoder.feed(ByteBuffer(bytes: body[start..<end])) { output += Array(buffer.readableBytesView) }
            start = end
        }
        try decoder.finish()
        return (output, decoder)
    }

    static var exampleSigning: AWSChunkedDecoder.Signing { .signed(seedSignature: seed, timestamp: timestamp, signer: signer) }

    @Test("AWS's example request verifies as a streaming-signed upload with its seed signature")
    func exampleSeed() throws {
        let request = SigV4Verifier.Request(
            method: "PUT", rawPath: "/examplebucket/chunkObject.txt", rawQuery: "",
            headers: [
                ("Host", "s3.amazonaws.com"), ("x-amz-date", Self.timestamp), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), ("Content-Encoding", "aws-chunked"),
                ("x-amz-decoded-content-length", "66560"), ("Content-Length", "66824"),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=\(Self.seed)"
                ),
            ]
        )
        let verified = try #require(try SigV4VerifierTests.verifier().verify(request, now: SigV4VerifierTests.exampleDate))
        #expect(verified.payload == .streamingSigned)
        #expect(verified.seedSignature == Self.seed)
        #expect(Self.exampleBody.count == 66824)
    }

    @Test("AWS's example body decodes to its 66,560 bytes however it is split")
    func exampleDecodes() async {
        await propertyCheck(count: 50, input: Gen.int(in: 0...66824).array(of: 0...6)) { splits in
            let decoded = try? Self.decode(Self.exampleBody, splits: splits, signing: Self.exampleSigning)
            #expect(decoded?.0 == [UInt8](repeating: UInt8(ascii: "a"), count: 66560))
        }
    }

    @Test("a changed byte, a changed signature, a dropped chunk or a cut-off body is refused")
    func alterations() {
        func code(_ body: [UInt8]) -> String? {
            SigV4VerifierTests.code { _ = try Self.decode(body, signing: Self.exampleSigning) }
        }
        var changedByte = Self.exampleBody
        changedByte[200] = UInt8(ascii: "b")
        #expect(code(changedByte) == "SignatureDoesNotMatch")
        let changedSignature = Array(String(decoding: Self.exampleBody, as: UTF8.self).replacingOccurrences(of: "ad80c730", with: "ad80c731").utf8)
        #expect(code(changedSignature) == "SignatureDoesNotMatch")
        let firstChunkEnd = 88 + 65536 + 2
        #expect(code(Array(Self.exampleBody[firstChunkEnd...])) == "SignatureDoesNotMatch")
        #expect(code(Array(Self.exampleBody.dropLast(4))) == "IncompleteBody")
        #expect(code(Self.exampleBody + Array("x".utf8)) == "InvalidChunkSizeError")
        #expect(code(Array("zz;chunk-signature=00\r\n".utf8)) == "InvalidChunkSizeError")
    }

    /// An unsigned body with a checksum trailer, as SDKs send over TLS by default.
    static func unsignedTrailerBody(_ payload: [UInt8], chunk: Int) -> [UInt8] {
        var body: [UInt8] = []
        var index = 0
        while index < payload.count {
            let piece = payload[index..<min(index + chunk, payload.count)]
            body += Array("\(String(piece.count, radix: 16))\r\n".utf8) + piece + Array("\r\n".utf8)
            index += piece.count
        }
        body += Array("0\r\nx-amz-checksum-crc32:\(ChecksumAlgorithm.crc32.checksum(of: payload))\r\n\r\n".utf8)
        return body
    }

    @Test("an unsigned body with a trailer decodes, and its trailing checksum is handed back")
    func unsignedTrailer() throws {
        let payload = Array("Hello, aws-chunked with a trailer!".utf8)
        let (decoded, decoder) = try Self.decode(Self.unsignedTrailerBody(payload, chunk: 8), splits: [3, 17, 40], signing: .unsigned, trailer: true)
        #expect(decoded == payload)
        #expect(decoder.trailers.first?.name == "x-amz-checksum-crc32")
        #expect(decoder.trailers.first?.value == ChecksumAlgorithm.crc32.checksum(of: payload))
        #expect(throws: S3Error.self) { try Self.decode(Self.unsignedTrailerBody(payload, chunk: 8), signing: .unsigned, trailer: false) }
    }
}
