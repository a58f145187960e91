import Foundation
import HTTPTypes
import Hummingbird
import KVStore
import NIOCore
import ObjectStore
import WireFormat

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
        let key = try Self.key(of: request, context: context)
        let precondition = try ConditionalHeaders.writePrecondition(request.headers)
        let contentType = try ContentTypePolicy.storedContentType(request.headers[.contentType])
        let ttl = try QueryOptions.ttl(request.uri.queryParameters)
        let declared = request.headers[.contentLength].flatMap(Int.init)
        let tooLarge = APIError.valueTooLarge(limit: self.maxValueBytes)
        // An oversized body is refused from its declared length, before any of it is read.
        let receipt: WriteReceipt
        if self.store.streamsLargeValues, declared.map({ $0 > self.store.bufferedValueLimit }) ?? true {
            // Larger than the cache keeps, or of unknown length: streamed to the backend.
            receipt = try await self.bodies.withStreamedBody(
                request, limit: self.maxValueBytes, tooLarge: tooLarge, reservation: self.store.streamBufferBytes,
                allowance: Self.transferAllowance(bytes: declared ?? self.maxValueBytes)
            ) { body in
                try await self.store.put(key, streaming: body, contentType: contentType, precondition: precondition, ttl: ttl)
            }
        } else {
            receipt = try await self.bodies.withBody(request, limit: self.maxValueBytes, tooLarge: tooLarge, expansion: Self.bodyExpansion) {
                try await self.store.put(key, value: $0, contentType: contentType, precondition: precondition, ttl: ttl)
            }
        }
        var headers = HTTPFields()
        if let etag = receipt.etag { headers[.eTag] = etag.quoted }
        Self.addVersionHeaders(version: receipt.version, expiresAt: receipt.expiresAt, to: &headers)
        return try JSONResponse.make(WriteResponse(receipt), headers: headers)
    }

    func get(_ request: Request, context: KVRequestContext) async throws -> Response {
        let key = try Self.key(of: request, context: context)
        let query = request.uri.queryParameters
        let version = try QueryOptions.version(query)
        if QueryOptions.wantsVersionList(query) {
            if version != nil { throw APIError.badRequest("invalid_version", "use either ?version or ?versions, not both") }
            return try await self.versionList(of: key)
        }
        let ifNoneMatch = ConditionalHeaders.readPrecondition(request.headers)
        do {
            if let range = RangeHeader.range(request.headers) {
                return try await self.rangedRead(key, version: version, range: range, ifNoneMatch: ifNoneMatch)
            }
            let opened =
                if let version {
                    try await self.read(key, version: version, ifNoneMatch: ifNoneMatch)
                } else {
                    try await self.store.open(key, ifNoneMatch: ifNoneMatch, fresh: ConditionalHeaders.wantsFreshRead(request.headers))
                }
            return Self.response(for: opened)
        } catch let error as KVError where error.code == .notModified {
            return Self.notModified(ifNoneMatch)
        }
    }

    /// The minimum transfer rate a streamed body is held to: its deadline is the request
    /// timeout plus one second per MiB. A body that stops arriving is ended sooner, by the idle
    /// timeout.
    static let minimumTransferBytesPerSecond = 1 << 20

    static func transferAllowance(bytes: Int) -> Duration {
        .seconds(bytes / Self.minimumTransferBytesPerSecond + 1)
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
    private func read(_ key: Key, version: Int64, ifNoneMatch: ETagMatch?) async throws -> OpenedEntry {
        let opened = try await self.store.open(key, version: version)
        if ifNoneMatch?.matches(opened.info.etag) == true { throw KVError(.notModified, "not modified") }
        return opened
    }

    /// `Range: bytes=`: 206 with the range, or 416 when it holds none of the value. A range of
    /// an older version is cut from it in memory when it is small, and otherwise ignored (the
    /// whole version is sent, as HTTP allows).
    @inline(never)
    private func rangedRead(_ key: Key, version: Int64?, range: RequestedRange, ifNoneMatch: ETagMatch?) async throws -> Response {
        if let version {
            let opened = try await self.read(key, version: version, ifNoneMatch: ifNoneMatch)
            guard case .buffered(let entry) = opened else { return Self.response(for: opened) }
            guard let resolved = range.resolved(size: entry.info.size) else { throw Self.unsatisfiable(size: entry.info.size) }
            let slice = entry.value.getSlice(at: entry.value.readerIndex + resolved.first, length: resolved.count)!
            return Self.partial(StreamedEntry(info: entry.info, body: .buffered(slice), range: resolved))
        }
        let streamed: StreamedEntry
        do {
            streamed = try await self.store.stream(key, range: range)
        } catch let error as KVError where error.code == .rangeNotSatisfiable {
            throw Self.unsatisfiable(size: try await self.store.head(key).size)
        }
        if ifNoneMatch?.matches(streamed.info.etag) == true { throw KVError(.notModified, "not modified") }
        return Self.partial(streamed)
    }

    private static func unsatisfiable(size: Int) -> APIError {
        APIError(
            .rangeNotSatisfiable, code: "range_not_satisfiable", message: "the range holds none of the value's \(size) bytes",
            headers: [.contentRange: "bytes */\(size)"]
        )
    }

    private static func partial(_ streamed: StreamedEntry) -> Response {
        var headers = Self.headers(for: streamed.info)
        guard let range = streamed.range else { return Self.response(for: .streamed(streamed)) }
        headers[.contentRange] = "bytes \(range.first)-\(range.last)/\(streamed.info.size)"
        headers[.contentLength] = String(range.count)
        return Response(status: .partialContent, headers: headers, body: Self.body(streamed.body, length: range.count))
    }

    @inline(never)
    private static func response(for opened: OpenedEntry) -> Response {
        switch opened {
        case .buffered(let entry):
            return Response(status: .ok, headers: Self.headers(for: entry.info), body: .init(byteBuffer: entry.value))
        case .streamed(let streamed):
            var headers = Self.headers(for: streamed.info)
            headers[.contentLength] = String(streamed.info.size)
            return Response(status: .ok, headers: headers, body: Self.body(streamed.body, length: streamed.info.size))
        }
    }

    /// A body written as the backend delivers it: each buffer is written once the client has
    /// taken the last, so a slow reader slows the backend read instead of filling memory.
    private static func body(_ body: ObjectBody, length: Int) -> ResponseBody {
        if let buffer = body.buffer { return ResponseBody(byteBuffer: buffer) }
        return ResponseBody(contentLength: length) { writer in
            try await writer.write(body)
            try await writer.finish(nil)
        }
    }

    func head(_ request: Request, context: KVRequestContext) async throws -> Response {
        let key = try Self.key(of: request, context: context)
        let ifNoneMatch = ConditionalHeaders.readPrecondition(request.headers)
        do {
            let info =
                if let version = try QueryOptions.version(request.uri.queryParameters) {
                    try await self.read(key, version: version, ifNoneMatch: ifNoneMatch).info
                } else {
                    try await self.store.head(key, ifNoneMatch: ifNoneMatch, fresh: ConditionalHeaders.wantsFreshRead(request.headers))
                }
            var headers = Self.headers(for: info)
            headers[.contentLength] = String(info.size)
            return Response(status: .ok, headers: headers)
        } catch let error as KVError where error.code == .notModified {
            return Self.notModified(ifNoneMatch)
        }
    }

    func delete(_ request: Request, context: KVRequestContext) async throws -> Response {
        let key = try Self.key(of: request, context: context)
        let ifMatch = try ConditionalHeaders.deletePrecondition(request.headers)
        try await self.store.delete(key, ifMatch: ifMatch)
        return Response(status: .noContent)
    }

    // MARK: Helpers

    /// The key a request names: the raw path after `/kv/`, percent-decoded exactly once to
    /// bytes, so `a/b` and `a%2Fb` name the same key and `%2541` names the key `%41`. The prefix
    /// is matched and stripped by bytes; a raw `/` followed by a combining mark still ends it.
    ///
    /// A valid key outside the prefix the request's token is confined to is refused with 403.
    static func key(of request: Request, context: KVRequestContext) throws -> Key {
        let path = request.uri.path
        guard UTF8Bytes.hasPrefix(path, pathPrefix) else { throw APIError.routeNotFound(path) }
        guard let bytes = PercentEncoding.decode(Substring(path).utf8.dropFirst(pathPrefix.utf8.count)) else {
            throw APIError.badRequest("key_invalid_escape", "the key has a malformed percent-escape; '%' must be followed by two hex digits")
        }
        let key = try Key(utf8: bytes)
        try context.authorize(key.rawValue)
        return key
    }

    static func headers(for info: EntryInfo) -> HTTPFields {
        var headers: HTTPFields = [
            .contentType: info.contentType,
            .eTag: info.etag.quoted,
            .lastModified: TimestampFormat.imfFixdate(info.lastModified),
            .acceptRanges: "bytes",
        ]
        self.addVersionHeaders(version: info.version, expiresAt: info.expiresAt, to: &headers)
        return headers
    }

    static func addVersionHeaders(version: Int64, expiresAt: UnixMilliseconds?, to headers: inout HTTPFields) {
        headers[.kvVersion] = String(version)
        if let expiresAt { headers[.kvExpiresAt] = TimestampFormat.iso8601(expiresAt.date) }
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
