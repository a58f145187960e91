import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import ObjectStore

/// The ``ObjectStore`` contract on S3 or any S3-compatible server.
///
/// Each operation is exactly one S3 request (plus retries of retryable failures). Object names
/// are put under an optional deployment prefix (`S3_PREFIX`), which is stripped from listings.
public struct S3ObjectStore: ObjectStore {
    public let client: S3Client
    /// Prepended to every object name, e.g. `team-a/`.
    public let prefix: String

    public init(client: S3Client, prefix: String = "") {
        self.client = client
        self.prefix = prefix
    }

    public func put(_ key: String, body: ByteBuffer, options: PutOptions) async throws -> ETag {
        try ObjectLimits.checkMetadata(options.metadata)
        var headers: [(name: String, value: String)] = [("content-type", options.contentType)]
        headers += options.metadata.sorted { $0.key < $1.key }.map { ("x-amz-meta-\($0.key)", $0.value) }
        switch options.condition {
        case .none: break
        case .ifNoneExists: headers.append(("if-none-match", "*"))
        case .ifMatch(let etag): headers.append(("if-match", etag.quoted))
        }
        let response = try await self.perform(key) { try await self.client.send(.PUT, key: self.prefix + key, headers: headers, body: body) }
        return try Self.etag(response.headers, key: key)
    }

    public func get(_ key: String, ifNoneMatch: ETagMatch?) async throws -> StoredObject {
        let response = try await self.perform(key) {
            try await self.client.send(.GET, key: self.prefix + key, headers: Self.readHeaders(ifNoneMatch))
        }
        if response.status == 304 { throw ObjectStoreError.notModified(key) }
        return StoredObject(info: try Self.info(response.headers, key: key, size: response.body.readableBytes), body: response.body)
    }

    public func head(_ key: String, ifNoneMatch: ETagMatch?) async throws -> ObjectInfo {
        let response = try await self.perform(key) {
            try await self.client.send(.HEAD, key: self.prefix + key, headers: Self.readHeaders(ifNoneMatch))
        }
        if response.status == 304 { throw ObjectStoreError.notModified(key) }
        let size = response.headers.first(name: "content-length").flatMap(Int.init) ?? 0
        return try Self.info(response.headers, key: key, size: size)
    }

    public func delete(_ key: String, ifMatch: ETag?) async throws {
        let headers = ifMatch.map { [("if-match", $0.quoted)] } ?? []
        _ = try await self.perform(key) { try await self.client.send(.DELETE, key: self.prefix + key, headers: headers) }
    }

    public func copy(from source: String, to destination: String, options: CopyOptions) async throws -> ETag {
        let bucket = self.client.configuration.bucket
        var headers: [(name: String, value: String)] = [("x-amz-copy-source", "/\(bucket)/" + SigV4Signer.encodePath(self.prefix + source))]
        if let etag = options.sourceIfMatch { headers.append(("x-amz-copy-source-if-match", etag.quoted)) }
        if let replacing = options.replacing {
            try ObjectLimits.checkMetadata(replacing.metadata)
            headers.append(("x-amz-metadata-directive", "REPLACE"))
            headers.append(("content-type", replacing.contentType))
            headers += replacing.metadata.sorted { $0.key < $1.key }.map { ("x-amz-meta-\($0.key)", $0.value) }
        }
        let response = try await self.perform(source) { try await self.client.send(.PUT, key: self.prefix + destination, headers: headers) }
        let root = try Self.xml(response.body)
        guard let etag = root.value("ETag") else {
            throw ObjectStoreError(.backendFailure, "CopyObject answered without an ETag")
        }
        return ETag(etag)
    }

    public func list(_ request: ListRequest) async throws -> ListPage {
        var query: [(name: String, value: String)] = [
            ("list-type", "2"), ("prefix", self.prefix + request.prefix),
            ("max-keys", String(request.clampedMaxKeys)),
        ]
        if let token = request.continuationToken {
            query.append(("continuation-token", token))
        } else if let startAfter = request.startAfter {
            query.append(("start-after", self.prefix + startAfter))
        }
        if let delimiter = request.delimiter, !delimiter.isEmpty { query.append(("delimiter", delimiter)) }
        let response = try await self.perform(request.prefix) { try await self.client.send(.GET, query: query) }
        let root = try Self.xml(response.body)
        let objects = try root.children("Contents").map { item in
            guard let key = item.value("Key"), let etag = item.value("ETag"), let size = item.value("Size").flatMap(Int.init),
                let modified = item.value("LastModified").flatMap(TimestampFormat.parseISO8601)
            else { throw ObjectStoreError(.backendFailure, "ListObjectsV2 answered an incomplete entry") }
            return ObjectSummary(key: String(key.dropFirst(self.prefix.count)), size: size, etag: ETag(etag), lastModified: modified)
        }
        let prefixes = root.children("CommonPrefixes").compactMap { $0.value("Prefix") }.map { String($0.dropFirst(self.prefix.count)) }
        let truncated = root.value("IsTruncated") == "true"
        return ListPage(objects: objects, commonPrefixes: prefixes, nextContinuationToken: truncated ? root.value("NextContinuationToken") : nil)
    }

    public func deleteMany(_ keys: [String]) async throws -> DeleteManyResult {
        try ObjectLimits.checkDeleteMany(keys)
        if keys.isEmpty { return DeleteManyResult(deleted: []) }
        let objects = keys.map { "<Object><Key>\(xmlEscape(self.prefix + $0))</Key></Object>" }.joined()
        let body = ByteBuffer(string: "<Delete><Quiet>false</Quiet>\(objects)</Delete>")
        let md5 = Data(Insecure.MD5.hash(data: Array(body.readableBytesView))).base64EncodedString()
        let response = try await self.perform("") {
            try await self.client.send(
                .POST, query: [("delete", "")], headers: [("content-type", "application/xml"), ("content-md5", md5)], body: body
            )
        }
        let root = try Self.xml(response.body)
        let deleted = root.children("Deleted").compactMap { $0.value("Key") }.map { String($0.dropFirst(self.prefix.count)) }
        let failed = root.children("Error").map { error in
            DeleteManyResult.Failure(
                key: String((error.value("Key") ?? "").dropFirst(self.prefix.count)),
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
            : ByteBuffer(string: "<CreateBucketConfiguration><LocationConstraint>\(xmlEscape(region))</LocationConstraint></CreateBucketConfiguration>")
        _ = try await self.client.send(.PUT, body: body)
    }

    // MARK: Mapping

    /// Runs a request, translating ``S3Error`` into the contract's ``ObjectStoreError``.
    private func perform(_ key: String, _ request: () async throws -> S3Client.Response) async throws -> S3Client.Response {
        do {
            return try await request()
        } catch let error as S3Error {
            throw Self.translate(error, key: key)
        }
    }

    static func translate(_ error: S3Error, key: String) -> ObjectStoreError {
        switch (error.status, error.code) {
        case (404, _): return .notFound(key)
        case (412, _): return .preconditionFailed(key)
        case (_, "AccessDenied"), (_, "InvalidAccessKeyId"), (_, "SignatureDoesNotMatch"), (403, _):
            return ObjectStoreError(.accessDenied, "\(error.code): \(error.message)")
        case (400, _): return ObjectStoreError(.invalidArgument, "\(error.code): \(error.message)")
        case _ where error.isRetryable: return ObjectStoreError(.unavailable, error.description)
        default: return ObjectStoreError(.backendFailure, error.description)
        }
    }

    private static func readHeaders(_ ifNoneMatch: ETagMatch?) -> [(name: String, value: String)] {
        switch ifNoneMatch {
        case nil: []
        case .any: [("if-none-match", "*")]
        case .oneOf(let tags): [("if-none-match", tags.map(\.quoted).joined(separator: ", "))]
        }
    }

    private static func etag(_ headers: HTTPHeaders, key: String) throws -> ETag {
        guard let etag = headers.first(name: "etag") else {
            throw ObjectStoreError(.backendFailure, "the response for '\(key)' has no ETag")
        }
        return ETag(etag)
    }

    private static func info(_ headers: HTTPHeaders, key: String, size: Int) throws -> ObjectInfo {
        var metadata: [String: String] = [:]
        for header in headers where header.name.lowercased().hasPrefix("x-amz-meta-") {
            metadata[String(header.name.lowercased().dropFirst("x-amz-meta-".count))] = header.value
        }
        return ObjectInfo(
            key: key, size: size, etag: try etag(headers, key: key),
            lastModified: headers.first(name: "last-modified").flatMap(TimestampFormat.parseIMFFixdate) ?? Date(timeIntervalSince1970: 0),
            contentType: headers.first(name: "content-type") ?? "application/octet-stream",
            metadata: metadata
        )
    }

    private static func xml(_ body: ByteBuffer) throws -> XMLElement {
        do {
            return try XMLElement.parse(Array(body.readableBytesView))
        } catch {
            throw ObjectStoreError(.backendFailure, error.message)
        }
    }
}
