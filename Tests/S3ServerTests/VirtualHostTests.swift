import Foundation
import NIOHTTP1
import S3Protocol
import TestSupport
import Testing

/// Virtual-hosted addressing: with a domain configured, `bucket.<domain>` names the bucket and
/// the path is the key; path-style keeps working beside it.
@Suite("Virtual-hosted addressing on the own S3 server")
struct VirtualHostTests {
    @Test("bucket.<domain> with the key as the path: create, put, get, list, delete; path-style alongside; the bare domain is the service")
    func virtualHosted() async throws {
        try await OwnS3Server.withServer(domain: "s3.localhost") { server in
            let host = "photos.s3.localhost:\(server.port)"
            #expect(try await SignedRequest(method: .PUT, path: "/", host: host).send(to: server).status == 200, "CreateBucket")
            let put = try await SignedRequest(method: .PUT, path: "/2026/cat ü.jpg", body: Array("meow".utf8), host: host).send(to: server)
            #expect(put.status == 200, "\(put.text)")
            // The same object, path-style.
            #expect(try await SignedRequest(method: .GET, path: "/photos/2026/cat ü.jpg").send(to: server).body == Array("meow".utf8))
            let read = try await SignedRequest(method: .GET, path: "/2026/cat ü.jpg", host: "PHOTOS.S3.LOCALHOST:\(server.port)").send(to: server)
            #expect(read.body == Array("meow".utf8), "host names compare without case")
            let listed = try await SignedRequest(method: .GET, path: "/", query: [("list-type", "2")], host: host).send(to: server)
            #expect(listed.xml?.child("Contents")?.value("Key") == "2026/cat ü.jpg", "\(listed.text)")
            let service = try await SignedRequest(method: .GET, path: "/", host: "s3.localhost:\(server.port)").send(to: server)
            #expect(service.xml?.name == "ListAllMyBucketsResult", "\(service.text)")
            #expect(try await SignedRequest(method: .DELETE, path: "/2026/cat ü.jpg", host: host).send(to: server).status == 204)
            #expect(try await SignedRequest(method: .DELETE, path: "/", host: host).send(to: server).status == 204, "DeleteBucket")
            let gone = try await SignedRequest(method: .GET, path: "/x", host: host).send(to: server)
            #expect(gone.status == 404 && gone.code == "NoSuchBucket")
        }
    }
}
