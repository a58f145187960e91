import Foundation
import HTTPTypes
import Hummingbird
import KVStore
import NIOCore
import ObjectStore

/// The `/kv/<key>` endpoints: PUT, GET, HEAD and DELETE of single values.
///
/// Query parameters: `ttl` on PUT (`?ttl=30s`), `version` on GET and HEAD (`?version=3`), and
/// `versions` on GET (`?versions`, the key's readable versions as JSON).
///
/// The key is taken from the raw request path and percent-decoded exactly once, so `/kv/a/b`
/// and `/kv/a%2Fb` name the same key, and `//` or `.` segments reach the key rules instead of
/// being normalised away.
struct KVController: Sendable {
    static let pathPrefix = "/kv/"
    static let bodyExpansion = BodyBuffering.valueExpansion

    let store: KeyValueStore
    let maxValueBytes: Int
    let bodies: BodyReader

    func declare(in routes: inout RouteTable) {
        let handlers: [(method: HTTPRequest.Method, handler: RouteTable.Handler)] = [
            (.get, self.get), (.head, self.head), (.put, self.put), (.delete, self.delete),
        ]
        routes.add(.prefix(Self.pathPrefix, parameter: "key"), handlers)
    }

    func put(_ request: Request, context: KVRequestContext) async throws -> Response {
        let key = try Self.key(of: request)
        let precondition = try ConditionalHeaders.writePrecondition(request.headers)
        let contentType = try ContentTypePolicy.storedContentType(request.headers[.contentType])
        let ttl = try QueryOptions.ttl(request.uri.queryParameters)
        // An oversized body is refused from its declared length, before any of it is read.
        let receipt = try await self.bodies.withBody(
            request, limit: self.maxValueBytes, tooLarge: .valueTooLarge(limit: self.maxValueBytes), expansion: Self.bodyExpansion
        ) { value in
            try await self.store.put(key, value: value, contentType: contentType, precondition: precondition, ttl: ttl)
        }
        var headers = HTTPFields()
        if let etag = receipt.etag { headers[.eTag] = etag.quoted }
        Self.addVersionHeaders(version: receipt.version, expiresAt: receipt.expiresAt, to: &headers)
        return try JSONResponse.make(WriteResponse(receipt), headers: headers)
    }

    func get(_ request: Request, context: KVRequestContext) async throws -> Response {
        let key = try Self.key(of: request)
        let query = request.uri.queryParameters
        let version = try QueryOptions.version(query)
        if QueryOptions.wantsVersionList(query) {
            if version != nil { throw APIError.badRequest("invalid_version", "use either ?version or ?versions, not both") }
            return try await self.versionList(of: key)
        }
        let ifNoneMatch = ConditionalHeaders.readPrecondition(request.headers)
        do {
            let entry =
                if let version {
                    try await self.read(key, version: version, ifNoneMatch: ifNoneMatch)
                } else {
                    try await self.store.get(key, ifNoneMatch: ifNoneMatch, fresh: ConditionalHeaders.wantsFreshRead(request.headers))
                }
            return Self.response(for: entry)
        } catch let error as KVError where error.code == .notModified {
            return Self.notModified(ifNoneMatch)
        }
    }

    // The rarer reads are functions of their own, kept out of line: an async function's frame
    // lives in its task's allocator, which keeps its high-water mark for as long as the
    // connection lives, so locals of these paths would otherwise cost every keep-alive
    // connection memory.

    @inline(never)
    private func versionList(of key: Key) async throws -> Response {
        let versions = try await self.store.versions(of: key)
        return try JSONResponse.make(VersionListResponse(key: key.rawValue, versions: versions.map { EntryAttributes($0, withKey: false) }))
    }

    @inline(never)
    private func read(_ key: Key, version: Int64, ifNoneMatch: ETagMatch?) async throws -> Entry {
        try Self.evaluate(try await self.store.get(key, version: version), ifNoneMatch)
    }

    @inline(never)
    private static func response(for entry: Entry) -> Response {
        Response(status: .ok, headers: Self.headers(for: entry.info), body: .init(byteBuffer: entry.value))
    }

    func head(_ request: Request, context: KVRequestContext) async throws -> Response {
        let key = try Self.key(of: request)
        let ifNoneMatch = ConditionalHeaders.readPrecondition(request.headers)
        do {
            let info =
                if let version = try QueryOptions.version(request.uri.queryParameters) {
                    try Self.evaluate(try await self.store.get(key, version: version), ifNoneMatch).info
                } else {
                    try await self.store.head(key, ifNoneMatch: ifNoneMatch)
                }
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

    /// The key a request names: the raw path after `/kv/`, percent-decoded exactly once to
    /// bytes, so `a/b` and `a%2Fb` name the same key and `%2541` names the key `%41`. The prefix
    /// is matched and stripped by bytes; a raw `/` followed by a combining mark still ends it.
    static func key(of request: Request) throws -> Key {
        let path = request.uri.path
        guard UTF8Bytes.hasPrefix(path, pathPrefix) else { throw APIError.routeNotFound(path) }
        guard let bytes = PercentEncoding.decode(Substring(path).utf8.dropFirst(pathPrefix.utf8.count)) else {
            throw APIError.badRequest("key_invalid_escape", "the key has a malformed percent-escape; '%' must be followed by two hex digits")
        }
        return try Key(utf8: bytes)
    }

    static func headers(for info: EntryInfo) -> HTTPFields {
        var headers: HTTPFields = [
            .contentType: info.contentType,
            .eTag: info.etag.quoted,
            .lastModified: TimestampFormat.imfFixdate(info.lastModified),
        ]
        self.addVersionHeaders(version: info.version, expiresAt: info.expiresAt, to: &headers)
        return headers
    }

    static func addVersionHeaders(version: Int64, expiresAt: UnixMilliseconds?, to headers: inout HTTPFields) {
        headers[.kvVersion] = String(version)
        if let expiresAt { headers[.kvExpiresAt] = TimestampFormat.iso8601(expiresAt.date) }
    }

    /// `If-None-Match` on a read of an old version, which the store serves without conditions.
    static func evaluate(_ entry: Entry, _ ifNoneMatch: ETagMatch?) throws -> Entry {
        if ifNoneMatch?.matches(entry.info.etag) == true { throw KVError(.notModified, "not modified") }
        return entry
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
    /// Absent only for a write confirmed after another had already replaced it.
    var etag: String?
    var version: Int64
    /// RFC 3339 with milliseconds; absent when the value does not expire.
    var expiresAt: String?

    init(_ receipt: WriteReceipt) {
        self.key = receipt.key.rawValue
        self.size = receipt.size
        self.etag = receipt.etag?.quoted
        self.version = receipt.version
        self.expiresAt = receipt.expiresAt.map { TimestampFormat.iso8601($0.date) }
    }

    enum CodingKeys: String, CodingKey {
        case key, size, etag, version
        case expiresAt = "expires_at"
    }
}

/// The body of `GET /kv/<key>?versions`: readable versions, newest first.
struct VersionListResponse: Encodable {
    var key: String
    var versions: [EntryAttributes]
}

extension HTTPField.Name {
    /// The version of the value a response describes.
    static let kvVersion = Self("X-KV-Version")!
    /// When the value expires (RFC 3339); absent when it does not.
    static let kvExpiresAt = Self("X-KV-Expires-At")!
}
