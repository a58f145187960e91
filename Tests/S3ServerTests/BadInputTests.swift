import Crypto
import Foundation
import NIOHTTP1
import PropertyBased
import S3Protocol
import TestSupport
import Testing

/// Requests S3 refuses are refused here with S3's error code and status, and leave nothing
/// behind: no object, no replaced object, no half-written part.
@Suite("The own S3 server refuses bad input with S3's errors and stores nothing")
struct BadInputTests {
    static func md5Base64(_ bytes: [UInt8]) -> String { Data(Insecure.MD5.hash(data: bytes)).base64EncodedString() }

    /// The object's body, or nil when there is none.
    static func stored(_ server: OwnS3Server.Running, _ key: String) async throws -> [UInt8]? {
        let answer = try await SignedRequest(method: .GET, path: "/tests/\(key)").send(to: server)
        if answer.status == 404 {
            #expect(answer.code == "NoSuchKey")
            return nil
        }
        #expect(answer.status == 200, "GET \(key): \(answer.status) \(answer.text)")
        return answer.body
    }

    @Test("a Content-MD5 that does not match is BadDigest, one that is not an MD5 is InvalidDigest; the old object stays", arguments: ServerStorage.allCases)
    func contentMD5(storage: ServerStorage) async throws {
        try await storage.withServer { server in
            _ = try await SignedRequest(method: .PUT, path: "/tests/kept", body: Array("old".utf8)).send(to: server)
            let body = Array("new bytes".utf8)
            let mismatched = try await SignedRequest(
                method: .PUT, path: "/tests/kept", headers: [("content-md5", Self.md5Base64(Array("other".utf8)))], body: body
            ).send(to: server)
            #expect(mismatched.status == 400 && mismatched.code == "BadDigest", "\(mismatched.text)")
            let invalid = try await SignedRequest(method: .PUT, path: "/tests/kept", headers: [("content-md5", "not-an-md5")], body: body).send(to: server)
            #expect(invalid.status == 400 && invalid.code == "InvalidDigest", "\(invalid.text)")
            let fresh = try await SignedRequest(method: .PUT, path: "/tests/fresh", headers: [("content-md5", Self.md5Base64([1]))], body: body).send(to: server)
            #expect(fresh.code == "BadDigest")
            #expect(try await Self.stored(server, "kept") == Array("old".utf8))
            #expect(try await Self.stored(server, "fresh") == nil)
            let matching = try await SignedRequest(method: .PUT, path: "/tests/kept", headers: [("content-md5", Self.md5Base64(body))], body: body).send(to: server)
            #expect(matching.status == 200)
            #expect(try await Self.stored(server, "kept") == body)
        }
    }

    @Test("an x-amz-checksum-* that does not match is BadDigest; the object is not written", arguments: ChecksumAlgorithm.all.map(\.name))
    func checksumMismatch(algorithmName: String) async throws {
        let algorithm = try #require(ChecksumAlgorithm(name: algorithmName))
        try await ServerStorage.local.withServer { server in
            let body = Array("checked bytes".utf8)
            let right = algorithm.checksum(of: body)
            let wrong = try await SignedRequest(method: .PUT, path: "/tests/summed", headers: [(algorithm.headerName, algorithm.checksum(of: [9]))], body: body)
                .send(to: server)
            #expect(wrong.status == 400 && wrong.code == "BadDigest", "\(wrong.text)")
            #expect(try await Self.stored(server, "summed") == nil)
            let good = try await SignedRequest(method: .PUT, path: "/tests/summed", headers: [(algorithm.headerName, right)], body: body).send(to: server)
            #expect(good.status == 200 && good.headers.first(name: algorithm.headerName) == right)
            let read = try await SignedRequest(method: .HEAD, path: "/tests/summed", headers: [("x-amz-checksum-mode", "ENABLED")]).send(to: server)
            #expect(read.headers.first(name: algorithm.headerName) == right)
        }
    }

    @Test("a body that does not hash to its signed x-amz-content-sha256 is XAmzContentSHA256Mismatch")
    func payloadHashMismatch() async throws {
        try await ServerStorage.memory.withServer { server in
            var request = SignedRequest(method: .PUT, path: "/tests/hashed", body: Array("sent".utf8))
            request.payloadHash = SigV4Signer.payloadHash(Array("signed".utf8))
            let answer = try await request.send(to: server)
            #expect(answer.status == 400 && answer.code == "XAmzContentSHA256Mismatch", "\(answer.text)")
            #expect(try await Self.stored(server, "hashed") == nil)
        }
    }

    @Test("Expect: 100-continue is answered 100 Continue at once, then the signed body is stored; what the parser refuses is S3's XML")
    func expectContinueAndMalformed() async throws {
        try await ServerStorage.memory.withServer { server in
            var signed = SigV4Signer.Request(
                method: "PUT", encodedPath: "/tests/continued",
                headers: [("host", "127.0.0.1:\(server.port)"), ("content-length", "5"), ("expect", "100-continue")],
                payloadHash: "UNSIGNED-PAYLOAD"
            )
            SigV4Signer(credentials: OwnS3Server.credentials, region: "us-east-1").sign(&signed, date: Date())
            let head = "PUT /tests/continued HTTP/1.1\r\n" + signed.headers.map { "\($0.name): \($0.value)\r\n" }.joined() + "\r\n"
            let port = server.port
            let (interim, final, malformed) = try await RawConnection.offThePool {
                let connection = try RawConnection(port: port)
                connection.send(head)
                // Nothing of the body is sent until the server says to go on. Each answer is read
                // as soon as it is whole; the bounds are generous for a loaded machine.
                let interim = connection.readResponse(timeout: .seconds(30)) ?? ""
                connection.send("hello")
                let final = connection.readResponse(timeout: .seconds(60)) ?? ""
                let bad = try RawConnection(port: port)
                bad.send("GARBAGE\r\n\r\n")
                return (interim, final, bad.readToEnd(timeout: .seconds(5)))
            }
            #expect(interim == "HTTP/1.1 100 Continue\r\n\r\n", "\(interim)")
            #expect(final.hasPrefix("HTTP/1.1 200"), "\(final)")
            #expect(try await Self.stored(server, "continued") == Array("hello".utf8))
            #expect(malformed.text.hasPrefix("HTTP/1.1 400") && malformed.text.contains("<Code>BadRequest</Code>") && malformed.closed, "\(malformed.text)")
        }
    }

    @Test("a body shorter than its Content-Length, then a closed connection, stores nothing", arguments: ServerStorage.allCases)
    func shortBody(storage: ServerStorage) async throws {
        try await storage.withServer { server in
            _ = try await SignedRequest(method: .PUT, path: "/tests/short-old", body: Array("old".utf8)).send(to: server)
            for (key, declared) in [("short-new", 100), ("short-old", 100), ("short-large", 20 << 20)] {
                var signed = SigV4Signer.Request(
                    method: "PUT", encodedPath: "/tests/\(key)",
                    headers: [("host", "127.0.0.1:\(server.port)"), ("content-length", String(declared))], payloadHash: "UNSIGNED-PAYLOAD"
                )
                SigV4Signer(credentials: OwnS3Server.credentials, region: "us-east-1").sign(&signed, date: Date())
                let head = "PUT /tests/\(key) HTTP/1.1\r\n" + signed.headers.map { "\($0.name): \($0.value)\r\n" }.joined() + "\r\n"
                let port = server.port
                let answer = try await RawConnection.offThePool {
                    let connection = try RawConnection(port: port)
                    connection.send(head)
                    connection.send(bytes: [UInt8](repeating: 0x61, count: min(declared / 2, 1 << 20)))
                    connection.halfClose()
                    return connection.readToEnd(timeout: .seconds(10))
                }
                #expect(answer.text.hasPrefix("HTTP/1.1 400") && answer.text.contains("<Code>IncompleteBody</Code>"), "\(answer.text)")
                #expect(answer.closed, "the server closes a connection whose body ended early")
            }
            #expect(try await Self.stored(server, "short-new") == nil)
            #expect(try await Self.stored(server, "short-large") == nil)
            #expect(try await Self.stored(server, "short-old") == Array("old".utf8))
        }
    }

    @Test("malformed XML in CompleteMultipartUpload and DeleteObjects is MalformedXML and changes nothing")
    func malformedXML() async throws {
        try await ServerStorage.local.withServer { server in
            _ = try await SignedRequest(method: .PUT, path: "/tests/present", body: [1]).send(to: server)
            let created = try await SignedRequest(method: .POST, path: "/tests/parts", query: [("uploads", "")]).send(to: server)
            let uploadID = try #require(created.xml?.value("UploadId"))
            let bodies = ["<CompleteMultipartUpload><Part>", "not xml", "<Other/>", "<CompleteMultipartUpload></CompleteMultipartUpload>",
                          "<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>\"a\"</ETag></Part></CompleteMultipartUpload>"]
            for body in bodies {
                let answer = try await SignedRequest(method: .POST, path: "/tests/parts", query: [("uploadId", uploadID)], body: Array(body.utf8))
                    .send(to: server)
                #expect(answer.status == 400 && answer.code == "MalformedXML", "\(body): \(answer.text)")
            }
            let parts = try await SignedRequest(method: .GET, path: "/tests/parts", query: [("uploadId", uploadID)]).send(to: server)
            #expect(parts.status == 200, "the upload is still open")
            #expect(try await Self.stored(server, "parts") == nil)
            for body in ["<Delete><Object><Key>present</Key></Object>", "<Delete><Object></Object></Delete>", "<Nope/>"] {
                let answer = try await SignedRequest(
                    method: .POST, path: "/tests", query: [("delete", "")], headers: [("content-md5", Self.md5Base64(Array(body.utf8)))],
                    body: Array(body.utf8)
                ).send(to: server)
                #expect(answer.status == 400 && answer.code == "MalformedXML", "\(body): \(answer.text)")
            }
            #expect(try await Self.stored(server, "present") == [1])
        }
    }

    /// S3's rules for a general purpose bucket's name, stated on their own to check the server's.
    static func isValidBucketName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        let lowerOrDigit: (UInt8) -> Bool = { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) }
        guard (3...63).contains(bytes.count), bytes.allSatisfy({ lowerOrDigit($0) || $0 == 0x2E || $0 == 0x2D }) else { return false }
        guard lowerOrDigit(bytes.first!), lowerOrDigit(bytes.last!), !name.contains("..") else { return false }
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        if octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) { return false }
        return !name.hasPrefix("xn--") && !name.hasSuffix("-s3alias")
    }

    static let bucketNamePieces = ["a", "z", "0", "9", "s3kv", ".", "-", "..", "A", "_", "é", " ", "xn--", "-s3alias", "192.168.1.1", String(repeating: "x", count: 30)]

    @Test("CreateBucket accepts exactly the names S3 accepts; every other is InvalidBucketName and creates nothing")
    func bucketNames() async throws {
        try await ServerStorage.memory.withServer { server in
            let generator = Gen<String?>.element(of: Self.bucketNamePieces).map { $0! }.array(of: 1...6).map { $0.joined() }
            await propertyCheck(count: 60, input: generator) { name in
                let created = try await SignedRequest(method: .PUT, path: "/\(name)").send(to: server)
                if Self.isValidBucketName(name) {
                    #expect(created.status == 200, "'\(name)': \(created.text)")
                    let deleted = try await SignedRequest(method: .DELETE, path: "/\(name)").send(to: server)
                    #expect(deleted.status == 204)
                } else {
                    #expect(created.status == 400 && created.code == "InvalidBucketName", "'\(name)': \(created.status) \(created.text)")
                }
            }
            let listed = try await SignedRequest(method: .GET, path: "/").send(to: server)
            let names = listed.xml?.child("Buckets")?.children("Bucket").compactMap { $0.value("Name") }
            #expect(names == ["tests"], "only the suite's own bucket is left")
        }
    }

    @Test("names up to 1,024 UTF-8 bytes are stored as given; longer ones are KeyTooLongError and store nothing")
    func nameLength() async throws {
        try await ServerStorage.local.withServer { server in
            await propertyCheck(count: 30, input: HostileText.nearLimit(1024)) { name in
                let put = try await SignedRequest(method: .PUT, path: "/tests/\(name)", body: Array(name.utf8)).send(to: server)
                if name.utf8.count <= 1024 {
                    #expect(put.status == 200, "\(name.utf8.count) bytes: \(put.text)")
                    let read = try await SignedRequest(method: .GET, path: "/tests/\(name)").send(to: server)
                    #expect(read.body == Array(name.utf8))
                    _ = try await SignedRequest(method: .DELETE, path: "/tests/\(name)").send(to: server)
                } else {
                    #expect(put.status == 400 && put.code == "KeyTooLongError", "\(name.utf8.count) bytes: \(put.status) \(put.text)")
                }
            }
            let listed = try await SignedRequest(method: .GET, path: "/tests", query: [("list-type", "2")]).send(to: server)
            #expect(listed.xml?.value("KeyCount") == "0", "\(listed.text)")
        }
    }
}
