import Foundation
import Hummingbird
import NIOCore
import ObjectStore
import S3Protocol
import WireFormat

/// CopyObject and UploadPartCopy: the object `x-amz-copy-source` names, read under the
/// `x-amz-copy-source-if-*` conditions, written elsewhere.
extension S3Responder {
    /// The source of a copy, found and checked against the request's copy-source conditions.
    struct CopySource {
        var bucket: String
        var key: ObjectName
        var store: any ObjectStore
        /// The version the conditions were checked against; the copy reads only this version.
        var info: ObjectInfo
    }

    /// Resolves `x-amz-copy-source` (`bucket/key` or `/bucket/key`, percent-encoded, an optional
    /// `?versionId=`) and checks the copy-source conditions as S3 does: every failure is 412,
    /// and a matching If-Match outweighs a failing If-Unmodified-Since, a failing If-None-Match
    /// outweighs a passing If-Modified-Since.
    func copySource(_ headers: HTTPFields) async throws -> CopySource {
        func header(_ name: String) -> String? { headers[.init(name)!] }
        guard var source = header("x-amz-copy-source") else { throw S3ServerErrors.invalidArgument("missing x-amz-copy-source") }
        if let query = source.firstIndex(of: "?") {
            let version = source[source.index(after: query)...]
            guard version == "versionId=null" || !version.hasPrefix("versionId=") else {
                throw S3Error(code: "NoSuchVersion", message: "The specified version does not exist.", status: 404)
            }
            source = String(source[..<query])
        }
        guard let bytes = PercentEncoding.decode(source), var path = String(validating: bytes, as: UTF8.self) else {
            throw S3ServerErrors.invalidArgument("Invalid copy source encoding")
        }
        if path.hasPrefix("/") { path.removeFirst() }
        guard let slash = path.firstIndex(of: "/"), path.index(after: slash) < path.endIndex else {
            throw S3ServerErrors.invalidArgument("Invalid copy source object key")
        }
        let bucket = String(path[..<slash])
        let key = ObjectName(String(path[path.index(after: slash)...]))
        let store = try self.buckets.store(bucket)
        let info = try await Self.head(store, key)

        let modified = info.lastModified.timeIntervalSince1970.rounded(.down)
        func tags(_ value: String) -> [String] { value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        func matches(_ value: String) -> Bool { tags(value).contains { $0 == "*" || ETag($0) == info.etag } }
        func date(_ name: String) -> TimeInterval? { header(name).flatMap(TimestampFormat.parseIMFFixdate)?.timeIntervalSince1970 }
        if let match = header("x-amz-copy-source-if-match") {
            guard matches(match) else { throw S3ServerErrors.preconditionFailed }
        } else if let since = date("x-amz-copy-source-if-unmodified-since"), modified > since {
            throw S3ServerErrors.preconditionFailed
        }
        if let none = header("x-amz-copy-source-if-none-match") {
            if matches(none) { throw S3ServerErrors.preconditionFailed }
        } else if let since = date("x-amz-copy-source-if-modified-since"), modified <= since {
            throw S3ServerErrors.preconditionFailed
        }
        return CopySource(bucket: bucket, key: key, store: store, info: info)
    }

    /// CopyObject within or across buckets, metadata directive COPY or REPLACE.
    func copyObject(_ request: Request, bucket: String, store: any ObjectStore, key: ObjectName) async throws -> Response {
        let headers = request.headers
        let directive = headers[.init("x-amz-metadata-directive")!]?.uppercased() ?? "COPY"
        guard directive == "COPY" || directive == "REPLACE" else { throw S3ServerErrors.invalidArgument("Unknown metadata directive.") }
        let source = try await self.copySource(headers)
        var replacing: ObjectAttributes?
        if directive == "REPLACE" {
            replacing = ObjectAttributes(contentType: headers[.contentType] ?? "binary/octet-stream", metadata: Self.storedMetadata(headers))
        } else if source.bucket == bucket, source.key == key {
            throw S3Error(code: "InvalidRequest", message: "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.", status: 400)
        }
        let condition = try Self.writeCondition(headers)
        let etag: ETag
        if source.bucket == bucket, condition == .none {
            etag = try await store.copy(from: source.key, to: key, options: CopyOptions(sourceIfMatch: source.info.etag, replacing: replacing))
        } else {
            // Across buckets (two stores), or under a write condition: stream the source.
            let attributes = replacing ?? ObjectAttributes(contentType: source.info.contentType, metadata: source.info.metadata)
            let options = PutOptions(contentType: attributes.contentType, metadata: attributes.metadata, condition: condition)
            etag = try await Self.streamCopy(source, range: nil, into: store, as: key, options: options)
        }
        return Self.copyResult("CopyObjectResult", etag: etag, written: try await store.head(key, ifNoneMatch: nil))
    }

    /// UploadPartCopy: a part made of the source, or of `x-amz-copy-source-range: bytes=first-last`.
    func uploadPartCopy(_ request: Request, uploads: any ObjectStore, part: ObjectName) async throws -> Response {
        let source = try await self.copySource(request.headers)
        var range: ByteRange?
        if let header = request.headers[.init("x-amz-copy-source-range")!] {
            let invalid = S3ServerErrors.invalidArgument(
                "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy"
            )
            guard case .bytes(let first, let last?)? = RequestedRange(header: header), first <= last else { throw invalid }
            guard last < source.info.size else {
                throw S3Error(code: "InvalidRange", message: "The requested range is not satisfiable", status: 416)
            }
            range = ByteRange(first: first, last: last)
        }
        let length = range?.count ?? source.info.size
        guard length <= Self.maximumPartBytes else {
            throw S3Error(code: "EntityTooLarge", message: "Your proposed upload exceeds the maximum allowed object size.", status: 400)
        }
        let etag = try await Self.streamCopy(source, range: range, into: uploads, as: part, options: PutOptions())
        return Self.copyResult("CopyPartResult", etag: etag, written: try await uploads.head(part, ifNoneMatch: nil))
    }

    /// Streams the version of `source` its conditions were checked on (all of it, or `range`)
    /// into `store` as `name`; a source overwritten meanwhile fails the copy with 412.
    private static func streamCopy(
        _ source: CopySource, range: ByteRange?, into store: any ObjectStore, as name: ObjectName, options: PutOptions
    ) async throws -> ETag {
        let object = try await source.store.stream(source.key, ifNoneMatch: nil, range: range)
        guard object.info.etag == source.info.etag else { throw S3ServerErrors.preconditionFailed }
        return try await store.put(name, streaming: object.body, options: options)
    }

    /// S3's answer to a copy: `CopyObjectResult` or `CopyPartResult` with the new ETag and time.
    private static func copyResult(_ element: String, etag: ETag, written: ObjectInfo) -> Response {
        var writer = XMLWriter()
        writer.element(element, namespace: Self.namespace) {
            $0.element("LastModified", TimestampFormat.iso8601(written.lastModified))
            $0.element("ETag", etag.quoted)
        }
        return Self.xmlResponse(writer)
    }
}
