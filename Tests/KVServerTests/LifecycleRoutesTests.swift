import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KVServer
import KVStore
import NIOCore
import LocalStores
import ObjectStore
import Synchronization
import TestSupport
import Testing

/// `?ttl`, `?version`, `?versions` and the version and expiry headers.
@Suite struct LifecycleRoutesTests {
    struct WriteBody: Decodable {
        var key: String
        var size: Int
        var etag: String
        var version: Int
        var expires_at: String?
    }

    struct VersionList: Decodable {
        struct Version: Decodable {
            var version: Int
            var size: Int
            var etag: String
            var last_modified: String
            var content_type: String
        }
        var key: String
        var versions: [Version]
    }

    @Test("?ttl sets an expiry reported in JSON and headers; the value is gone after it")
    func ttl() async throws {
        let clock = ManualClock()
        try await withAPI(clock: clock.storeClock) { client in
            let written = try await client.execute(uri: "/kv/s?ttl=1h30m", method: .put, body: ByteBuffer(string: "v"))
            #expect(written.status == .ok)
            let body = try written.json(WriteBody.self)
            #expect(body.expires_at == "2027-01-15T09:30:00.000Z")
            #expect(body.version == 1)
            #expect(written.headers[HTTPField.Name("X-KV-Expires-At")!] == "2027-01-15T09:30:00.000Z")

            let read = try await client.execute(uri: "/kv/s", method: .get)
            #expect(read.headers[HTTPField.Name("X-KV-Expires-At")!] == "2027-01-15T09:30:00.000Z")
            #expect(read.headers[HTTPField.Name("X-KV-Version")!] == "1")

            clock.advanceSeconds(5400)
            try await client.execute(uri: "/kv/s", method: .get).expectError(.notFound, "key_not_found")
            let head = try await client.execute(uri: "/kv/s", method: .head)
            #expect(head.status == .notFound)
        }
    }

    @Test("a bad ttl is a 400 saying what is accepted", arguments: ["0", "-1s", "soon", "30m1h", "400d", ""])
    func badTTL(_ ttl: String) async throws {
        try await withAPI { client in
            let response = try await client.execute(uri: "/kv/k?ttl=\(ttl)", method: .put, body: ByteBuffer(string: "v"))
            try response.expectError(.badRequest, "invalid_ttl")
            #expect(try response.json(ErrorBody.self).error.message.contains("1h30m"))
            try await client.execute(uri: "/kv/k", method: .get).expectError(.notFound, "key_not_found")
        }
    }

    @Test("versions: headers, ?version, ?versions, and their errors")
    func versions() async throws {
        try await withAPI(store: KVStoreConfiguration(versionHistory: 1)) { client in
            for text in ["a", "bb", "ccc"] {
                try await client.execute(uri: "/kv/doc", method: .put, headers: [.contentType: "text/plain"], body: ByteBuffer(string: text))
            }
            let current = try await client.execute(uri: "/kv/doc", method: .get)
            #expect(current.headers[HTTPField.Name("X-KV-Version")!] == "3")

            let old = try await client.execute(uri: "/kv/doc?version=2", method: .get)
            #expect(old.status == .ok && old.text == "bb")
            #expect(old.headers[HTTPField.Name("X-KV-Version")!] == "2")
            #expect(old.headers[.contentType] == "text/plain")
            let oldHead = try await client.execute(uri: "/kv/doc?version=2", method: .head)
            #expect(oldHead.status == .ok && oldHead.headers[.contentLength] == "2")
            let notModified = try await client.execute(uri: "/kv/doc?version=2", method: .get, headers: [.ifNoneMatch: old.headers[.eTag]!])
            #expect(notModified.status == .notModified)

            try await client.execute(uri: "/kv/doc?version=1", method: .get).expectError(.notFound, "version_not_found")
            try await client.execute(uri: "/kv/doc?version=0", method: .get).expectError(.badRequest, "invalid_version")
            try await client.execute(uri: "/kv/doc?version=two", method: .get).expectError(.badRequest, "invalid_version")

            let list = try await client.execute(uri: "/kv/doc?versions", method: .get)
            #expect(list.status == .ok)
            let versions = try list.json(VersionList.self)
            #expect(versions.key == "doc")
            #expect(versions.versions.map(\.version) == [3, 2])
            #expect(versions.versions.map(\.size) == [3, 2])
            try await client.execute(uri: "/kv/none?versions", method: .get).expectError(.notFound, "key_not_found")
            // Both at once is ambiguous, and a malformed version is refused even next to ?versions.
            try await client.execute(uri: "/kv/doc?versions&version=2", method: .get).expectError(.badRequest, "invalid_version")
            try await client.execute(uri: "/kv/doc?versions&version=x", method: .get).expectError(.badRequest, "invalid_version")
        }
    }

    @Test("a write that keeps losing to other writers is a 409")
    func conflict() async throws {
        // A backend where every conditional write fails: as if other writers always won.
        try await withAPI(objects: AlwaysConflictingObjectStore()) { client in
            let response = try await client.execute(uri: "/kv/k", method: .put, body: ByteBuffer(string: "v"))
            try response.expectError(.conflict, "write_conflict")
        }
    }
}

/// Answers every conditional put with 412 and every read with a value, so writes never win.
struct AlwaysConflictingObjectStore: ObjectStore {
    let base = MemoryObjectStore()

    var limits: ObjectStoreLimits { self.base.limits }

    func put(_ name: ObjectName, body: ByteBuffer, options: PutOptions) async throws -> ETag {
        if options.condition != .none { throw ObjectStoreError.preconditionFailed(name) }
        return try await self.base.put(name, body: body, options: options)
    }
    func get(_ name: ObjectName, ifNoneMatch: ETagMatch?) async throws -> StoredObject {
        StoredObject(info: try await self.head(name, ifNoneMatch: ifNoneMatch), body: ByteBuffer(string: "x"))
    }
    func head(_ name: ObjectName, ifNoneMatch: ETagMatch?) async throws -> ObjectInfo {
        ObjectInfo(name: name, size: 1, etag: ETag("\"other\""), lastModified: Date(), contentType: "text/plain", metadata: ["version": "7"])
    }
    func delete(_ name: ObjectName, ifMatch: ETag?) async throws { try await self.base.delete(name, ifMatch: ifMatch) }
    func copy(from source: ObjectName, to destination: ObjectName, options: CopyOptions) async throws -> ETag {
        try await self.base.copy(from: source, to: destination, options: options)
    }
    func list(_ request: ListRequest) async throws -> ListPage { try await self.base.list(request) }
    func deleteMany(_ names: [ObjectName]) async throws -> DeleteManyResult { try await self.base.deleteMany(names) }
    func probe() async throws { try await self.base.probe() }
}
