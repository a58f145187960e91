import Crypto
import Foundation
public import NIOCore
import NIOHTTP1
public import ObjectStore
import WireFormat
public import S3Protocol

/// The ``ObjectStore`` contract on S3 or any S3-compatible server.
///
/// Each operation is exactly one S3 request (plus retries of retryable failures). Object names
/// are put under an optional deployment prefix (`S3_PREFIX`), which is stripped from listings.
public struct S3ObjectStore: ObjectStore {
    /// S3's limit for one PutObject.
    public static let maximumSinglePutBytes = 5 << 30

    public let client: S3Client
    /// Prepended to every object name, e.g. `team-a/`.
    public let prefix: ObjectName

    public init(client: S3Client, prefix: String = "") {
        self.client = client
        self.prefix = ObjectName(prefix)
    }

    /// Streamed, an object is bounded by S3's multipart limit (5 TiB); a body held in memory goes
    /// in one PutObject (at most 5 GiB) and a whole read stops at the client's response limit.
    public var limits: ObjectStoreLimits {
        ObjectStoreLimits(
            maximumObjectBytes: Self.maximumMultipartBytes, streamsBodies: true,
            streamBufferBytes: Self.streamBufferBytes(self.client.configuration)
        )
    }

    public func put(_ name: ObjectName, body: ByteBuffer, options: PutOptions) async throws -> ETag {
        try Self.checkNoEntityTag(options)
        try ObjectLimits.checkName(name)
        try ObjectLimits.checkContentType(options.contentType)
        try ObjectLimits.checkMetadata(options.metadata)
        if body.readableBytes > Self.maximumSinglePutBytes {
            throw ObjectStoreError(
                .invalidArgument, "the body is \(body.readableBytes) bytes; one PutObject holds at most \(Self.maximumSinglePutBytes); stream it"
            )
        }
        var headers: [(name: String, value: String)] = [("content-type", options.contentType)]
        headers += options.metadata.sorted { $0.key < $1.key }.map { ("x-amz-meta-\($0.key)", $0.value) }
        switch options.condition {
        case .none: break
        case .ifNoneExists: headers.append(("if-none-match", "*"))
        case .ifMatch(let etag): headers.append(("if-match", etag.quoted))
        }
        let conditional = options.condition != .none
        let response = try await self.perform(name, conditional: conditional) {
            try await self.client.send(
                .PUT, key: self.objectKey(name), headers: headers, body: body, replay: conditional ? .whenNotApplied : .idempotent
            )
        }
        return try Self.etag(response.headers, name: name)
    }

    public func get(_ name: ObjectName, ifNoneMatch: ETagMatch?) async throws -> StoredObject {
        let response = try await self.perform(name) {
            try await self.client.send(.GET, key: self.objectKey(name), headers: Self.readHeaders(ifNoneMatch))
        }
        if response.status == 304 { throw ObjectStoreError.notModified(name) }
        return StoredObject(info: try Self.info(response.headers, name: name, size: response.body.readableBytes), body: response.body)
    }

    public func head(_ name: ObjectName, ifNoneMatch: ETagMatch?) async throws -> ObjectInfo {
        let response = try await self.perform(name) {
            try await self.client.send(.HEAD, key: self.objectKey(name), headers: Self.readHeaders(ifNoneMatch))
        }
        if response.status == 304 { throw ObjectStoreError.notModified(name) }
        let size = response.headers.first(name: "content-length").flatMap(Int.init) ?? 0
        return try Self.info(response.headers, name: name, size: size)
    }

    public func delete(_ name: ObjectName, ifMatch: ETag?) async throws {
        let headers = ifMatch.map { [("if-match", $0.quoted)] } ?? []
        _ = try await self.perform(name, conditional: ifMatch != nil) {
            try await self.client.send(.DELETE, key: self.objectKey(name), headers: headers, replay: ifMatch == nil ? .idempotent : .whenNotApplied)
        }
    }

    public func list(_ request: ListRequest) async throws -> ListPage {
        var query: [(name: String, value: String)] = [
            ("list-type", "2"), ("prefix", self.objectKey(request.prefix)),
            ("max-keys", String(request.clampedMaxKeys)),
        ]
        if let token = request.continuationToken {
            query.append(("continuation-token", token))
        } else if let startAfter = request.startAfter {
            query.append(("start-after", self.objectKey(startAfter)))
        }
        if let delimiter = request.delimiter, !delimiter.isEmpty { query.append(("delimiter", delimiter.string)) }
        let response = try await self.perform(request.prefix) { try await self.client.send(.GET, query: query) }
        let root = try Self.xml(response.body)
        let objects = try root.children("Contents").map { item in
            guard let key = item.value("Key"), let etag = item.value("ETag"), let size = item.value("Size").flatMap(Int.init),
                let modified = item.value("LastModified").flatMap(TimestampFormat.parseISO8601)
            else { throw ObjectStoreError(.backendFailure, "ListObjectsV2 answered an incomplete entry") }
            return ObjectSummary(name: try self.name(ofKey: key), size: size, etag: ETag(etag), lastModified: modified)
        }
        let prefixes = try root.children("CommonPrefixes").compactMap { $0.value("Prefix") }.map { try self.name(ofKey: $0) }
        let truncated = root.value("IsTruncated") == "true"
        return ListPage(objects: objects, commonPrefixes: prefixes, nextContinuationToken: truncated ? root.value("NextContinuationToken") : nil)
    }

    public func deleteMany(_ names: [ObjectName]) async throws -> DeleteManyResult {
        try ObjectLimits.checkDeleteMany(names)
        if names.isEmpty { return DeleteManyResult(deleted: []) }
        let objects = names.map { "<Object><Key>\(XMLWriter.escape(self.objectKey($0)))</Key></Object>" }.joined()
        let body = ByteBuffer(string: "<Delete><Quiet>false</Quiet>\(objects)</Delete>")
        let md5 = Data(Insecure.MD5.hash(data: Array(body.readableBytesView))).base64EncodedString()
        let response = try await self.perform("") {
            try await self.client.send(
                .POST, query: [("delete", "")], headers: [("content-type", "application/xml"), ("content-md5", md5)], body: body
            )
        }
        let root = try Self.xml(response.body)
        let deleted = try root.children("Deleted").compactMap { $0.value("Key") }.map { try self.name(ofKey: $0) }
        let failed = try root.children("Error").map { error in
            DeleteManyResult.Failure(
                name: try self.name(ofKey: error.value("Key") ?? ""),
                code: error.value("Code") ?? "Unknown",
                message: error.value("Message") ?? ""
            )
        }
        return DeleteManyResult(deleted: deleted, failed: failed)
    }

    /// Checks the bucket is reachable with these credentials (HeadBucket).
    /// HeadBucket: reachable, the bucket exists and the credentials may use it.
    public func probe() async throws {
        try await self.headBucket()
    }

    public func headBucket() async throws(S3Error) {
        _ = try await self.client.send(.HEAD)
    }

    /// Creates the bucket (CreateBucket); outside us-east-1 with a location constraint.
    public func createBucket() async throws(S3Error) {
        let region = self.client.configuration.region
        let body: ByteBuffer? =
            region == "us-east-1"
            ? nil
            : ByteBuffer(string: "<CreateBucketConfiguration><LocationConstraint>\(XMLWriter.escape(region))</LocationConstraint></CreateBucketConfiguration>")
        _ = try await self.client.send(.PUT, body: body)
    }

    // MARK: Mapping

    /// The S3 key of an object: the deployment prefix, then the name's bytes.
    func objectKey(_ name: ObjectName) -> String {
        (self.prefix + name).string
    }

    /// The object name of an S3 key from a listing, without the deployment prefix (by bytes).
    private func name(ofKey key: String) throws -> ObjectName {
        guard let name = ObjectName(key).removingPrefix(self.prefix) else {
            throw ObjectStoreError(.backendFailure, "S3 listed '\(key)', which is outside the prefix '\(self.prefix)'")
        }
        return name
    }

    /// Runs a request, translating ``S3Error`` into the contract's ``ObjectStoreError``.
    ///
    /// - Parameter conditional: whether the request is a conditional write or delete, whose
    ///   lost answer is an ``ObjectStoreError/Code/outcomeUnknown`` rather than a failure.
    func perform<Result>(
        _ name: ObjectName, conditional: Bool = false, _ request: () async throws -> Result
    ) async throws -> Result {
        do {
            return try await request()
        } catch let error as S3Error {
            throw Self.translate(error, name: name, conditional: conditional)
        }
    }

    /// S3 errors that are the request's own fault: resending it unchanged cannot succeed, and
    /// the layers above may tell their client so. Every other 4xx is the backend's problem
    /// (credentials that expired, a signature S3 cannot parse), not the client's.
    static let clientFaultCodes: Set<String> = [
        "InvalidArgument", "KeyTooLongError", "MetadataTooLarge", "EntityTooLarge", "InvalidRequest",
    ]

    /// Errors meaning our credentials or permissions are refused.
    static let accessCodes: Set<String> = [
        "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired",
    ]

    static func translate(_ error: S3Error, name: ObjectName, conditional: Bool = false) -> ObjectStoreError {
        switch (error.status, error.code) {
        case (404, "NoSuchBucket"): return ObjectStoreError(.backendFailure, "\(error.code): \(error.message)")
        case (404, _): return .notFound(name)
        case (412, _): return .preconditionFailed(name)
        case (416, _): return ObjectStoreError(.rangeNotSatisfiable, "\(error.code): \(error.message)")
        case _ where Self.accessCodes.contains(error.code), (403, _):
            return ObjectStoreError(.accessDenied, "\(error.code): \(error.message)")
        case (0, S3Error.invalidRequestCode):
            return ObjectStoreError(.invalidArgument, error.message)
        case (0, S3Error.circuitOpen.code), (0, S3Error.deadlineExceeded.code):
            return ObjectStoreError(.unavailable, error.description)
        case (400, _) where Self.clientFaultCodes.contains(error.code):
            return ObjectStoreError(.invalidArgument, "\(error.code): \(error.message)")
        case _ where conditional && error.mayHaveBeenApplied:
            return ObjectStoreError(.outcomeUnknown, "the answer to a conditional request was lost: \(error.description)")
        case _ where error.isRetryable: return ObjectStoreError(.unavailable, error.description)
        default: return ObjectStoreError(.backendFailure, error.description)
        }
    }

    static func readHeaders(_ ifNoneMatch: ETagMatch?) -> [(name: String, value: String)] {
        switch ifNoneMatch {
        case nil: []
        case .any: [("if-none-match", "*")]
        case .oneOf(let tags): [("if-none-match", tags.map(\.quoted).joined(separator: ", "))]
        }
    }

    static func etag(_ headers: HTTPHeaders, name: ObjectName) throws -> ETag {
        guard let etag = headers.first(name: "etag") else {
            throw ObjectStoreError(.backendFailure, "the response for '\(name)' has no ETag")
        }
        return ETag(etag)
    }

    static func info(_ headers: HTTPHeaders, name: ObjectName, size: Int) throws -> ObjectInfo {
        var metadata: [String: String] = [:]
        for header in headers where header.name.lowercased().hasPrefix("x-amz-meta-") {
            metadata[String(header.name.lowercased().dropFirst("x-amz-meta-".count))] = header.value
        }
        return ObjectInfo(
            name: name, size: size, etag: try etag(headers, name: name),
            lastModified: headers.first(name: "last-modified").flatMap(TimestampFormat.parseIMFFixdate) ?? Date(timeIntervalSince1970: 0),
            contentType: headers.first(name: "content-type") ?? "application/octet-stream",
            metadata: metadata
        )
    }

    /// S3 computes every object's entity tag; a write that asks for another is refused.
    static func checkNoEntityTag(_ options: PutOptions) throws(ObjectStoreError) {
        guard options.entityTag == nil else {
            throw ObjectStoreError(.invalidArgument, "S3 computes entity tags itself; a write cannot set one")
        }
    }

    static func xml(_ body: ByteBuffer) throws -> XMLElement {
        do {
            return try XMLElement.parse(Array(body.readableBytesView))
        } catch {
            throw ObjectStoreError(.backendFailure, error.message)
        }
    }
}
