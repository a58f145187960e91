import Foundation
import PropertyBased
import S3Protocol
import Testing
import TestSupport
import WireFormat

/// The server's half of SigV4: AWS's own S3 examples verify, and every way a request can be
/// wrong is refused with S3's error code.
@Suite struct SigV4VerifierTests {
    /// The credentials of AWS's S3 signing examples (documentation, "Signature Calculations").
    static let example = AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let exampleDate = TimestampFormat.parseCompactISO8601("20130524T000000Z")!

    static func verifier(region: String = "us-east-1") -> SigV4Verifier {
        SigV4Verifier(region: region) { $0 == example.accessKeyID ? example : nil }
    }

    /// The S3 error code `body` throws, or nil when it succeeds.
    static func code(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as S3Error {
            return error.code
        } catch {
            return "not an S3Error: \(error)"
        }
    }

    @Test("AWS's GET-object example (header auth with Range) verifies")
    func awsGetExample() throws {
        let request = SigV4Verifier.Request(
            method: "GET", rawPath: "/test.txt", rawQuery: "",
            headers: [
                ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
                ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash), ("x-amz-date", "20130524T000000Z"),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
                ),
            ]
        )
        let verified = try #require(try Self.verifier().verify(request, now: Self.exampleDate))
        #expect(verified.accessKeyID == "AKIAIOSFODNN7EXAMPLE")
        #expect(verified.payload == .sha256(SigV4Signer.emptyPayloadHash))
    }

    @Test("AWS's PUT-object example verifies, with its '$' in the path encoded once")
    func awsPutExample() throws {
        for rawPath in ["/test%24file.text", "/test$file.text"] {
            let request = SigV4Verifier.Request(
                method: "PUT", rawPath: rawPath, rawQuery: "",
                headers: [
                    ("Host", "examplebucket.s3.amazonaws.com"), ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
                    ("x-amz-date", "20130524T000000Z"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                    ("x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"),
                    (
                        "Authorization",
                        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
                    ),
                ]
            )
            let verified = try #require(try Self.verifier().verify(request, now: Self.exampleDate))
            #expect(verified.payload == .sha256("44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"))
        }
    }

    static let presignedQuery =
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"

    static func presigned(query: String = presignedQuery) -> SigV4Verifier.Request {
        SigV4Verifier.Request(method: "GET", rawPath: "/test.txt", rawQuery: query, headers: [("host", "examplebucket.s3.amazonaws.com")])
    }

    @Test("AWS's presigned-URL example verifies until it expires, and not after")
    func awsPresignedExample() throws {
        let verified = try #require(try Self.verifier().verify(Self.presigned(), now: Self.exampleDate.addingTimeInterval(86_399)))
        #expect(verified.payload == .unsigned)
        #expect(Self.code { _ = try Self.verifier().verify(Self.presigned(), now: Self.exampleDate.addingTimeInterval(86_401)) } == "AccessDenied")
        let tampered = Self.presignedQuery.replacingOccurrences(of: "Expires=86400", with: "Expires=86401")
        #expect(Self.code { _ = try Self.verifier().verify(Self.presigned(query: tampered), now: Self.exampleDate) } == "SignatureDoesNotMatch")
        let tooLong = Self.presignedQuery.replacingOccurrences(of: "Expires=86400", with: "Expires=604801")
        #expect(Self.code { _ = try Self.verifier().verify(Self.presigned(query: tooLong), now: Self.exampleDate) } == "AuthorizationQueryParametersError")
    }

    /// A request signed by our own signer, as the client sends it.
    static func signed(
        credentials: AWSCredentials = example, path: String, query: [(name: String, value: String)] = [], date: Date = exampleDate,
        region: String = "us-east-1"
    ) -> SigV4Verifier.Request {
        var request = SigV4Signer.Request(
            method: "PUT", encodedPath: SigV4Signer.encodePath(path), query: query, headers: [("host", "127.0.0.1:9000")],
            payloadHash: SigV4Signer.emptyPayloadHash
        )
        SigV4Signer(credentials: credentials, region: region).sign(&request, date: date)
        let rawQuery = query.map { "\(SigV4Signer.uriEncode($0.name))=\(SigV4Signer.uriEncode($0.value))" }.joined(separator: "&")
        return SigV4Verifier.Request(method: "PUT", rawPath: request.encodedPath, rawQuery: rawQuery, headers: request.headers)
    }

    @Test("whatever the object name and query, what our signer signs our verifier accepts")
    func roundTrip() async {
        await propertyCheck(count: 200, input: HostileText.name(), HostileText.name()) { name, value in
            let request = Self.signed(path: "/bucket/" + name, query: [("prefix", value), ("list-type", "2")])
            #expect(Self.code { _ = try Self.verifier().verify(request, now: Self.exampleDate) } == nil)
        }
    }

    @Test("a wrong secret, an unknown key, a changed path, a skewed clock and a wrong region are refused with S3's codes")
    func refusals() {
        let wrongSecret = AWSCredentials(accessKeyID: Self.example.accessKeyID, secretAccessKey: "not-the-secret")
        #expect(Self.code { _ = try Self.verifier().verify(Self.signed(credentials: wrongSecret, path: "/b/k"), now: Self.exampleDate) } == "SignatureDoesNotMatch")
        let unknown = AWSCredentials(accessKeyID: "AKIDUNKNOWN", secretAccessKey: "x")
        #expect(Self.code { _ = try Self.verifier().verify(Self.signed(credentials: unknown, path: "/b/k"), now: Self.exampleDate) } == "InvalidAccessKeyId")
        var changed = Self.signed(path: "/b/k")
        changed.rawPath = "/b/other"
        #expect(Self.code { _ = try Self.verifier().verify(changed, now: Self.exampleDate) } == "SignatureDoesNotMatch")
        #expect(Self.code { _ = try Self.verifier().verify(Self.signed(path: "/b/k"), now: Self.exampleDate.addingTimeInterval(901)) } == "RequestTimeTooSkewed")
        #expect(Self.code { _ = try Self.verifier().verify(Self.signed(path: "/b/k"), now: Self.exampleDate.addingTimeInterval(-899)) } == nil)
        #expect(Self.code { _ = try Self.verifier().verify(Self.signed(path: "/b/k", region: "eu-west-1"), now: Self.exampleDate) } == "AuthorizationHeaderMalformed")
    }

    @Test("a request without a signature is anonymous, not an error")
    func anonymous() throws {
        let request = SigV4Verifier.Request(method: "GET", rawPath: "/b/k", rawQuery: "", headers: [("host", "x")])
        #expect(try Self.verifier().verify(request, now: Self.exampleDate) == nil)
    }
}

/// The checksums S3 verifies, against their published check values ("123456789").
@Suite struct ChecksumTests {
    static func hex(_ base64: String) -> String { Hex.encode(Data(base64Encoded: base64)!) }

    @Test("each algorithm gives its standard check value, in any chunking")
    func checkValues() {
        let input = Array("123456789".utf8)
        let expected: [(ChecksumAlgorithm, String)] = [
            (.crc32, "cbf43926"), (.crc32c, "e3069283"), (.crc64nvme, "ae8b14860a799888"),
            (.sha1, "f7c3bc1d808e04732adf679965ccc34ca7ae3441"),
            (.sha256, "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"),
        ]
        for (algorithm, value) in expected {
            #expect(Self.hex(algorithm.checksum(of: input)) == value, "\(algorithm)")
            var hasher = algorithm.makeHasher()
            hasher.update(Array(input[..<4]))
            hasher.update([])
            hasher.update(Array(input[4...]))
            #expect(Self.hex(hasher.finalize()) == value, "\(algorithm), in pieces")
        }
        #expect(ChecksumAlgorithm(name: "crc64nvme") == .crc64nvme)
        #expect(ChecksumAlgorithm.crc32c.headerName == "x-amz-checksum-crc32c")
        #expect(ChecksumAlgorithm(name: "md5") == nil)
    }
}

/// XML as S3 writes it, and read back by our reader.
@Suite struct XMLWriterTests {
    @Test("text that needs escaping, combining marks after '<' included, reads back byte for byte")
    func escaping() async throws {
        let text = Gen<String?>.element(of: HostileText.pieces + ["<", "&", ">", "\"", "<\u{301}", "&\u{308}"]).map { $0! }
            .array(of: 0...12).map { $0.joined() }
        await propertyCheck(count: 200, input: text) { value in
            var writer = XMLWriter()
            writer.element("Root") { $0.element("Key", value) }
            let root = try? XMLElement.parse(writer.bytes)
            #expect(root?.value("Key").map { Array($0.utf8) } == Array(value.utf8))
        }
        #expect(XMLWriter.escape("<\u{301}&") == "&lt;\u{301}&amp;")
    }
}
