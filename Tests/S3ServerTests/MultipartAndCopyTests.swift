import Crypto
import Foundation
import NIOHTTP1
import S3Protocol
import TestSupport
import Testing

/// Multipart uploads and copies as S3 does them: the multipart ETag, UploadPartCopy with a
/// range, the part rules of CompleteMultipartUpload, and the copy-source conditions.
@Suite("Multipart uploads and copies on the own S3 server")
struct MultipartAndCopyTests {
    static func md5(_ bytes: [UInt8]) -> [UInt8] { Array(Insecure.MD5.hash(data: bytes)) }
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func completion(_ parts: [(Int, String)]) -> [UInt8] {
        let items = parts.map { "<Part><PartNumber>\($0.0)</PartNumber><ETag>\($0.1)</ETag></Part>" }.joined()
        return Array("<CompleteMultipartUpload>\(items)</CompleteMultipartUpload>".utf8)
    }

    @Test("Complete checks order, tags and sizes (only the last part may be under 5 MiB), then answers S3's multipart ETag; a ranged UploadPartCopy is a part", arguments: ServerStorage.allCases)
    func multipart(storage: ServerStorage) async throws {
        try await storage.withServer { server in
            let source = (0..<(6 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            _ = try await SignedRequest(method: .PUT, path: "/tests/source", body: source).send(to: server)
            let created = try await SignedRequest(method: .POST, path: "/tests/joined", query: [("uploads", "")]).send(to: server)
            let uploadID = try #require(created.xml?.value("UploadId"))
            let upload = [("uploadId", uploadID)]

            let first = Array(source[0..<(5 << 20)])
            let one = try await SignedRequest(method: .PUT, path: "/tests/joined", query: upload + [("partNumber", "1")], body: first).send(to: server)
            let oneTag = try #require(one.headers.first(name: "etag"))
            #expect(oneTag == "\"\(Self.hex(Self.md5(first)))\"")
            let copied = try await SignedRequest(
                method: .PUT, path: "/tests/joined", query: upload + [("partNumber", "2")],
                headers: [("x-amz-copy-source", "/tests/source"), ("x-amz-copy-source-range", "bytes=100-1099")]
            ).send(to: server)
            #expect(copied.status == 200 && copied.xml?.name == "CopyPartResult", "\(copied.text)")
            let twoTag = try #require(copied.xml?.value("ETag"))
            #expect(twoTag == "\"\(Self.hex(Self.md5(Array(source[100...1099]))))\"")
            let pastEnd = try await SignedRequest(
                method: .PUT, path: "/tests/joined", query: upload + [("partNumber", "3")],
                headers: [("x-amz-copy-source", "/tests/source"), ("x-amz-copy-source-range", "bytes=0-\(source.count)")]
            ).send(to: server)
            #expect(pastEnd.status == 416 && pastEnd.code == "InvalidRange", "\(pastEnd.text)")

            func complete(_ parts: [(Int, String)]) async throws -> SignedRequest.Answer {
                try await SignedRequest(method: .POST, path: "/tests/joined", query: upload, body: Self.completion(parts)).send(to: server)
            }
            let outOfOrder = try await complete([(2, twoTag), (1, oneTag)])
            #expect(outOfOrder.status == 400 && outOfOrder.code == "InvalidPartOrder")
            let wrongTag = try await complete([(1, oneTag), (2, oneTag)])
            #expect(wrongTag.status == 400 && wrongTag.code == "InvalidPart")
            let missing = try await complete([(1, oneTag), (3, twoTag)])
            #expect(missing.status == 400 && missing.code == "InvalidPart")
            let three = try await SignedRequest(method: .PUT, path: "/tests/joined", query: upload + [("partNumber", "3")], body: Array("tail".utf8)).send(to: server)
            let threeTag = try #require(three.headers.first(name: "etag"))
            let tooSmall = try await complete([(1, oneTag), (2, twoTag), (3, threeTag)])
            #expect(tooSmall.status == 400 && tooSmall.code == "EntityTooSmall", "part 2 (1,000 bytes) is not the last: \(tooSmall.text)")
            let unknown = try await SignedRequest(method: .POST, path: "/tests/joined", query: [("uploadId", "0123abcd")], body: Self.completion([(1, oneTag)]))
                .send(to: server)
            #expect(unknown.status == 404 && unknown.code == "NoSuchUpload")
            #expect(try await SignedRequest(method: .HEAD, path: "/tests/joined").send(to: server).status == 404, "nothing is visible before Complete")

            let done = try await complete([(1, oneTag), (2, twoTag)])
            #expect(done.status == 200, "\(done.text)")
            let expected = "\"\(Self.hex(Self.md5(Self.md5(first) + Self.md5(Array(source[100...1099])))))-2\""
            #expect(done.xml?.value("ETag") == expected)
            let read = try await SignedRequest(method: .GET, path: "/tests/joined").send(to: server)
            #expect(read.body == first + Array(source[100...1099]))
            #expect(read.headers.first(name: "etag") == expected)
            let listed = try await SignedRequest(method: .GET, path: "/tests", query: [("list-type", "2"), ("prefix", "joined")]).send(to: server)
            #expect(listed.xml?.child("Contents")?.value("ETag") == expected, "listings show the same tag")
            let again = try await complete([(1, oneTag), (2, twoTag)])
            #expect(again.status == 404 && again.code == "NoSuchUpload", "a completed upload is gone")
        }
    }

    @Test("copy-source conditions: If-Match and If-None-Match on the ETag, the date conditions, each failure 412 and nothing written")
    func copyConditions() async throws {
        try await ServerStorage.local.withServer { server in
            let put = try await SignedRequest(method: .PUT, path: "/tests/original", body: Array("original".utf8)).send(to: server)
            let etag = try #require(put.headers.first(name: "etag"))
            let past = "Mon, 01 Jan 2001 00:00:00 GMT"
            let future = "Fri, 01 Jan 2100 00:00:00 GMT"
            let cases: [(String, String, Bool)] = [
                ("x-amz-copy-source-if-match", etag, true), ("x-amz-copy-source-if-match", "\"0\"", false),
                ("x-amz-copy-source-if-none-match", "\"0\"", true), ("x-amz-copy-source-if-none-match", etag, false),
                ("x-amz-copy-source-if-modified-since", past, true), ("x-amz-copy-source-if-modified-since", future, false),
                ("x-amz-copy-source-if-unmodified-since", future, true), ("x-amz-copy-source-if-unmodified-since", past, false),
            ]
            for (index, (name, value, copies)) in cases.enumerated() {
                let answer = try await SignedRequest(
                    method: .PUT, path: "/tests/copy-\(index)", headers: [("x-amz-copy-source", "tests/original"), (name, value)]
                ).send(to: server)
                let stored = try await SignedRequest(method: .GET, path: "/tests/copy-\(index)").send(to: server)
                if copies {
                    #expect(answer.status == 200 && answer.xml?.value("ETag") == etag, "\(name): \(value): \(answer.text)")
                    #expect(stored.body == Array("original".utf8))
                } else {
                    #expect(answer.status == 412 && answer.code == "PreconditionFailed", "\(name): \(value): \(answer.text)")
                    #expect(stored.status == 404)
                }
            }
            let missing = try await SignedRequest(method: .PUT, path: "/tests/x", headers: [("x-amz-copy-source", "tests/absent")]).send(to: server)
            #expect(missing.status == 404 && missing.code == "NoSuchKey")
            let noBucket = try await SignedRequest(method: .PUT, path: "/tests/x", headers: [("x-amz-copy-source", "nowhere/original")]).send(to: server)
            #expect(noBucket.status == 404 && noBucket.code == "NoSuchBucket")
        }
    }
}
