import Foundation
import HTTPTypes
import Hummingbird
import KVStore
import NIOCore
import ObjectStore

/// The `/kv/<key>` endpoints: PUT, GET, HEAD and DELETE of single values.
///
/// The key is taken from the raw request path and percent-decoded exactly once, so `/kv/a/b`
/// and `/kv/a%2Fb` name the same key, and `//` or `.` segments reach the key rules instead of
/// being normalised away.
struct KVController: Sendable {
    static let pathPrefix = "/kv/"

    let store: KeyValueStore
    let maxValueBytes: Int

    func declare(in routes: inout RouteTable) {
        let handlers: [(method: HTTPRequest.Method, handler: RouteTable.Handler)] = [
            (.get, self.get), (.head, self.head), (.put, self.put), (.delete, self.delete),
        ]
        routes.add(.prefix(Self.pathPrefix), handlers)
        // The router does not match `/kv/` against `/kv/**`; route it here so the empty key gets
        // its own 400 rather than a 404.
        routes.add(.exact(Self.pathPrefix), handlers)
    }

    func put(_ request: Request, context: KVRequestContext) async throws -> Response {
        let key = try Self.key(of: request)
        // Refuse an oversized body from its declared length, before reading any of it.
        if let length = request.headers[.contentLength].flatMap(Int.init), length > self.maxValueBytes {
            throw APIError.valueTooLarge(limit: self.maxValueBytes)
        }
        let precondition = try ConditionalHeaders.writePrecondition(request.headers)
        let contentType = try ContentTypePolicy.storedContentType(request.headers[.contentType])
        let value = try await request.body.collect(upTo: self.maxValueBytes)
        let receipt =
            switch precondition {
            case .none: try await self.store.put(key, value: value, contentType: contentType)
            case .ifMatch(let etag): try await self.store.put(key, value: value, contentType: contentType, condition: .ifMatch(etag))
            case .ifNoneExists: try await self.store.put(key, value: value, contentType: contentType, condition: .ifNoneExists)
            case .ifExists: try await self.store.putIfExists(key, value: value, contentType: contentType)
            }
        return try JSONResponse.make(
            WriteResponse(key: receipt.key.rawValue, size: receipt.size, etag: receipt.etag.quoted),
            headers: [.eTag: receipt.etag.quoted]
        )
    }

    func get(_ request: Request, context: KVRequestContext) async throws -> Response {
        let key = try Self.key(of: request)
        let ifNoneMatch = ConditionalHeaders.readPrecondition(request.headers)
        do {
            let entry = try await self.store.get(key, ifNoneMatch: ifNoneMatch)
            return Response(status: .ok, headers: Self.headers(for: entry.info), body: .init(byteBuffer: entry.value))
        } catch let error as KVError where error.code == .notModified {
            return Self.notModified(ifNoneMatch)
        }
    }

    func head(_ request: Request, context: KVRequestContext) async throws -> Response {
        let key = try Self.key(of: request)
        let ifNoneMatch = ConditionalHeaders.readPrecondition(request.headers)
        do {
            let info = try await self.store.head(key, ifNoneMatch: ifNoneMatch)
            var headers = Self.headers(for: info)
            headers[.contentLength] = String(info.size)
            return Response(status: .ok, headers: headers)
        } catch let error as KVError where error.code == .notModified {
            return Self.notModified(ifNoneMatch)
        }
    }

    func delete(_ request: Request, context: KVRequestContext) async throws -> Response {
        let key = try Self.key(of: request)
        let ifMatch = try ConditionalHeaders.deletePrecondition(request.headers)
        try await self.store.delete(key, ifMatch: ifMatch)
        return Response(status: .noContent)
    }

    // MARK: Helpers

    static func key(of request: Request) throws -> Key {
        let path = request.uri.path
        guard path.hasPrefix(pathPrefix) else { throw APIError.routeNotFound(path) }
        return try Key(percentEncoded: path.dropFirst(pathPrefix.count))
    }

    static func headers(for info: EntryInfo) -> HTTPFields {
        [
            .contentType: info.contentType,
            .eTag: info.etag.quoted,
            .lastModified: TimestampFormat.imfFixdate(info.lastModified),
        ]
    }

    /// 304 carries the ETag when the client named exactly one, which is then the current one.
    static func notModified(_ ifNoneMatch: ETagMatch?) -> Response {
        var headers = HTTPFields()
        if case .oneOf(let tags) = ifNoneMatch, tags.count == 1 { headers[.eTag] = tags[0].quoted }
        return Response(status: .notModified, headers: headers)
    }
}

/// The body of a successful PUT.
struct WriteResponse: Encodable {
    var key: String
    /// Bytes written.
    var size: Int
    var etag: String
}
