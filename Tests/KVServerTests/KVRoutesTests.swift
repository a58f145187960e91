import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KVServer
import NIOCore
import TestSupport
import Testing

@Suite struct KVRoutesTests {
    struct WriteBody: Decodable {
        var key: String
        var size: Int
        var etag: String
    }

    @Test("PUT answers key and size; GET returns the raw bytes with type, ETag and Last-Modified")
    func putThenGet() async throws {
        try await withAPI { client in
            let value = ByteBuffer(bytes: Array(0...255))
            let written = try await client.execute(uri: "/kv/bin/1", method: .put, headers: [.contentType: "image/png"], body: value)
            #expect(written.status == .ok)
            let body = try written.json(WriteBody.self)
            #expect(body.key == "bin/1")
            #expect(body.size == 256)
            #expect(written.headers[.eTag] == body.etag)

            let read = try await client.execute(uri: "/kv/bin/1", method: .get)
            #expect(read.status == .ok)
            #expect(read.body == value)
            #expect(read.headers[.contentType] == "image/png")
            #expect(read.headers[.eTag] == body.etag)
            #expect(read.headers[.lastModified]?.hasSuffix(" GMT") == true)
        }
    }

    @Test("PUT overwrites; an empty body is a value of size 0")
    func overwrite() async throws {
        try await withAPI { client in
            try await client.execute(uri: "/kv/k", method: .put, body: ByteBuffer(string: "one"))
            let second = try await client.execute(uri: "/kv/k", method: .put, body: ByteBuffer())
            #expect(try second.json(WriteBody.self).size == 0)
            let read = try await client.execute(uri: "/kv/k", method: .get)
            #expect(read.status == .ok)
            #expect(read.body.readableBytes == 0)
        }
    }

    @Test("curl's default form type is stored as application/octet-stream")
    func formContentType() async throws {
        try await withAPI { client in
            let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            try await client.execute(uri: "/kv/form", method: .put, headers: headers, body: ByteBuffer(string: "a=b"))
            #expect(try await client.execute(uri: "/kv/form", method: .get).headers[.contentType] == "application/octet-stream")
            try await client.execute(uri: "/kv/none", method: .put, body: ByteBuffer(string: "x"))
            #expect(try await client.execute(uri: "/kv/none", method: .get).headers[.contentType] == "application/octet-stream")
        }
    }

    @Test("/kv/a/b and /kv/a%2Fb are the same key; %-escapes decode once")
    func escapes() async throws {
        try await withAPI { client in
            try await client.execute(uri: "/kv/a%2Fb", method: .put, body: ByteBuffer(string: "slash"))
            #expect(try await client.execute(uri: "/kv/a/b", method: .get).text == "slash")
            try await client.execute(uri: "/kv/100%2525", method: .put, body: ByteBuffer(string: "pct"))
            let written = try await client.execute(uri: "/kv/100%2525", method: .get)
            #expect(written.text == "pct")
            #expect(try await client.execute(uri: "/kv/100%25", method: .get).status == .notFound)
        }
    }

    @Test("HEAD gives the headers and length of GET without a body")
    func head() async throws {
        try await withAPI { client in
            try await client.execute(uri: "/kv/h", method: .put, body: ByteBuffer(string: "12345"))
            let response = try await client.execute(uri: "/kv/h", method: .head)
            #expect(response.status == .ok)
            #expect(response.headers[.contentLength] == "5")
            #expect(response.headers[.eTag] != nil)
            #expect(response.body.readableBytes == 0)
            #expect(try await client.execute(uri: "/kv/missing", method: .head).status == .notFound)
        }
    }

    @Test("DELETE answers 204, then 404")
    func delete() async throws {
        try await withAPI { client in
            try await client.execute(uri: "/kv/d", method: .put, body: ByteBuffer(string: "x"))
            #expect(try await client.execute(uri: "/kv/d", method: .delete).status == .noContent)
            try await client.execute(uri: "/kv/d", method: .delete).expectError(.notFound, "key_not_found")
            try await client.execute(uri: "/kv/d", method: .get).expectError(.notFound, "key_not_found")
        }
    }

    @Test("GET with a matching If-None-Match is 304 with the ETag and no body")
    func notModified() async throws {
        try await withAPI { client in
            let etag = try await client.execute(uri: "/kv/c", method: .put, body: ByteBuffer(string: "x")).headers[.eTag]!
            let cached = try await client.execute(uri: "/kv/c", method: .get, headers: [.ifNoneMatch: etag])
            #expect(cached.status == .notModified)
            #expect(cached.headers[.eTag] == etag)
            #expect(cached.body.readableBytes == 0)
            let list = try await client.execute(uri: "/kv/c", method: .get, headers: [.ifNoneMatch: "\"other\", \(etag)"])
            #expect(list.status == .notModified)
            let star = try await client.execute(uri: "/kv/c", method: .head, headers: [.ifNoneMatch: "*"])
            #expect(star.status == .notModified)
            let changed = try await client.execute(uri: "/kv/c", method: .get, headers: [.ifNoneMatch: "\"other\""])
            #expect(changed.status == .ok)
        }
    }

    @Test("conditional PUT and DELETE: compare-and-swap, create-only, and 412 as JSON")
    func conditionalWrites() async throws {
        try await withAPI { client in
            let created = try await client.execute(uri: "/kv/cas", method: .put, headers: [.ifNoneMatch: "*"], body: ByteBuffer(string: "1"))
            #expect(created.status == .ok)
            let first = created.headers[.eTag]!
            try await client.execute(uri: "/kv/cas", method: .put, headers: [.ifNoneMatch: "*"], body: ByteBuffer(string: "x"))
                .expectError(.preconditionFailed, "precondition_failed")
            let swapped = try await client.execute(uri: "/kv/cas", method: .put, headers: [.ifMatch: first], body: ByteBuffer(string: "2"))
            #expect(swapped.status == .ok)
            try await client.execute(uri: "/kv/cas", method: .put, headers: [.ifMatch: first], body: ByteBuffer(string: "3"))
                .expectError(.preconditionFailed, "precondition_failed")
            try await client.execute(uri: "/kv/absent", method: .put, headers: [.ifMatch: "*"], body: ByteBuffer(string: "3"))
                .expectError(.preconditionFailed, "precondition_failed")
            #expect(try await client.execute(uri: "/kv/cas", method: .put, headers: [.ifMatch: "*"], body: ByteBuffer(string: "4")).status == .ok)
            try await client.execute(uri: "/kv/cas", method: .delete, headers: [.ifMatch: first])
                .expectError(.preconditionFailed, "precondition_failed")
            let current = try await client.execute(uri: "/kv/cas", method: .head).headers[.eTag]!
            #expect(try await client.execute(uri: "/kv/cas", method: .delete, headers: [.ifMatch: current]).status == .noContent)
        }
    }

    @Test("malformed preconditions are 400", arguments: [
        HTTPFields([HTTPField(name: .ifMatch, value: "\"a\", \"b\"")]),
        HTTPFields([HTTPField(name: .ifMatch, value: "unquoted")]),
        HTTPFields([HTTPField(name: .ifMatch, value: "\\VL\"")]),
        HTTPFields([HTTPField(name: .ifMatch, value: "\"in\"side\"")]),
        HTTPFields([HTTPField(name: .ifMatch, value: "\"sp ace\"")]),
        HTTPFields([HTTPField(name: .ifNoneMatch, value: "\"a\"")]),
        HTTPFields([HTTPField(name: .ifMatch, value: "*"), HTTPField(name: .ifNoneMatch, value: "*")]),
    ])
    func badPreconditions(_ headers: HTTPFields) async throws {
        try await withAPI { client in
            try await client.execute(uri: "/kv/k", method: .put, headers: headers, body: ByteBuffer(string: "x"))
                .expectError(.badRequest, "invalid_precondition")
        }
    }
}
