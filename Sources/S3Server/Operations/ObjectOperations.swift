import Foundation
import Hummingbird
import NIOCore
import ObjectStore
import S3Protocol
import WireFormat

extension S3Responder {
    /// Headers stored with an object and returned on GET and HEAD, besides Content-Type.
    static let storedHeaders = ["content-encoding", "content-disposition", "content-language", "cache-control", "expires"]
    /// Names in the store's metadata that hold user metadata (`x-amz-meta-*`, kept whole).
    static let userMetadataPrefix = "x-amz-meta-"

    /// What a body must prove, from the request's headers and how it was signed.
    func bodyExpectations(_ headers: HTTPFields, verified: SigV4Verifier.Verified?) throws(S3Error) -> BodyExpectations {
        func header(_ name: String) -> String? { headers[.init(name)!] }
        var expectations = BodyExpectations(length: 0)
        switch verified?.payload {
        case .sha256(let hash)?: expectations.sha256 = hash
        case .streamingSigned?, .streamingSignedTrailer?:
            expectations.chunked = .signed(seedSignature: verified!.seedSignature, timestamp: verified!.timestamp, signer: verified!.signer)
        case .streamingUnsignedTrailer?: expectations.chunked = .unsigned
        case .unsigned?, nil: break
        }
        if expectations.chunked == nil, header("content-encoding")?.contains("aws-chunked") == true {
            expectations.chunked = .unsigned
        }
        if expectations.chunked != nil {
            guard let decoded = header("x-amz-decoded-content-length").flatMap(Int.init), decoded >= 0 else {
                throw S3Error(code: "MissingContentLength", message: "aws-chunked uploads need x-amz-decoded-content-length", status: 411)
            }
            expectations.length = decoded
            if let trailer = header("x-amz-trailer") {
                guard let algorithm = ChecksumAlgorithm.all.first(where: { $0.headerName == trailer.lowercased() }) else {
                    throw S3ServerErrors.invalidArgument("x-amz-trailer names an unknown checksum: \(trailer)")
                }
                expectations.trailerChecksum = algorithm
            }
        } else {
            guard let length = header("content-length").flatMap(Int.init), length >= 0 else {
                throw S3Error(code: "MissingContentLength", message: "You must provide the Content-Length HTTP header.", status: 411)
            }
            expectations.length = length
        }
        guard expectations.length <= self.configuration.maximumObjectBytes else {
            throw S3Error(code: "EntityTooLarge", message: "Your proposed upload exceeds the maximum allowed object size.", status: 400)
        }
        if let md5 = header("content-md5") {
            guard let digest = Data(base64Encoded: md5), digest.count == 16 else {
                throw S3Error(code: "InvalidDigest", message: "The Content-MD5 you specified was invalid.", status: 400)
            }
            expectations.md5 = Array(digest)
        }
        for algorithm in ChecksumAlgorithm.all {
            guard let value = header(algorithm.headerName) else { continue }
            guard expectations.checksum == nil else { throw S3ServerErrors.invalidArgument("Expecting a single x-amz-checksum- header") }
            expectations.checksum = (algorithm, value)
        }
        return expectations
    }

    func putObject(_ request: Request, store: any ObjectStore, key: ObjectName, verified: SigV4Verifier.Verified?) async throws -> Response {
        let headers = request.headers
        func header(_ name: String) -> String? { headers[.init(name)!] }
        let expectations = try self.bodyExpectations(headers, verified: verified)
        var metadata: [String: String] = [:]
        if let checksum = expectations.checksum { metadata[checksum.algorithm.headerName] = checksum.value }
        metadata.merge(Self.storedMetadata(headers)) { _, stored in stored }
        let userBytes = metadata.filter { $0.key.hasPrefix(Self.userMetadataPrefix) }
            .reduce(0) { $0 + $1.key.utf8.count - Self.userMetadataPrefix.utf8.count + $1.value.utf8.count }
        guard userBytes <= 2048 else {
            throw S3Error(code: "MetadataTooLarge", message: "Your metadata headers exceed the maximum allowed metadata size.", status: 400)
        }
        let condition = try Self.writeCondition(headers)
        let options = PutOptions(contentType: header("content-type") ?? "binary/octet-stream", metadata: metadata, condition: condition)
        return try await self.storeBody(request, expectations: expectations, into: store, as: key, options: options)
    }

    /// The user metadata and stored headers of a write, with lower-case names; repeated headers
    /// are joined with commas, and `aws-chunked` (the request's framing) is not a stored coding.
    static func storedMetadata(_ headers: HTTPFields) -> [String: String] {
        var metadata: [String: String] = [:]
        for field in headers {
            let name = field.name.rawName.lowercased()
            guard name.hasPrefix(Self.userMetadataPrefix) || Self.storedHeaders.contains(name) else { continue }
            var value = field.value
            if name == "content-encoding" {
                let codings = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0 != "aws-chunked" }
                guard !codings.isEmpty else { continue }
                value = codings.joined(separator: ",")
            }
            metadata[name] = metadata[name].map { $0 + "," + value } ?? value
        }
        return metadata
    }

    /// Streams a request's body, verified against `expectations`, into `store` as `name`, and
    /// answers with its ETag (and checksum). The client hears its own body's failure, whatever
    /// the store made of it.
    func storeBody(
        _ request: Request, expectations: BodyExpectations, into store: any ObjectStore, as name: ObjectName, options: PutOptions
    ) async throws -> Response {
        let body = VerifiedBody(body: request.body, expectations: expectations, failure: .init())
        let etag: ETag
        do {
            etag = try await store.put(name, streaming: ObjectBody(body, length: expectations.length), options: options)
        } catch {
            if let failure = body.failure.recorded { throw failure }
            throw S3ServerErrors.from(error)
        }
        var response = Response(status: .ok, headers: [.eTag: etag.quoted])
        if let checksum = expectations.checksum { response.headers[.init(checksum.algorithm.headerName)!] = checksum.value }
        return response
    }

    /// `If-None-Match: *` and `If-Match` on a write.
    static func writeCondition(_ headers: HTTPFields) throws(S3Error) -> WriteCondition {
        if let none = headers[.ifNoneMatch] {
            guard none.trimmingCharacters(in: .whitespaces) == "*" else {
                throw S3Error(code: "NotImplemented", message: "If-None-Match on a write supports only '*'", status: 501)
            }
            return .ifNoneExists
        }
        if let match = headers[.ifMatch] { return .ifMatch(ETag(match.trimmingCharacters(in: .whitespaces))) }
        return .none
    }

    func getObject(_ request: Request, _ s3: S3Request, store: any ObjectStore, key: ObjectName, head: Bool) async throws -> Response {
        let headers = request.headers
        var range: ByteRange?
        var info: ObjectInfo?
        switch headers[.range].flatMap(RequestedRange.init(header:)) {
        case .bytes(let first, let last)? where !head:
            // The store clamps the end and refuses a start past it: no HEAD needed first.
            range = ByteRange(first: first, last: last ?? Int.max)
        case let requested?:
            // A suffix (or a HEAD) needs the size to know which bytes are meant.
            info = try await Self.head(store, key)
            guard let resolved = requested.resolved(size: info!.size) else {
                throw S3Error(code: "InvalidRange", message: "The requested range is not satisfiable", status: 416)
            }
            range = resolved
        case nil:
            break
        }
        let object: StreamedObject
        do {
            if head {
                let attributes: ObjectInfo
                if let info { attributes = info } else { attributes = try await store.head(key, ifNoneMatch: nil) }
                object = StreamedObject(info: attributes, body: .buffered(ByteBuffer()), range: range)
            } else {
                object = try await store.stream(key, ifNoneMatch: nil, range: range)
            }
        } catch {
            throw S3ServerErrors.from(error)
        }
        try Self.checkReadConditions(headers, info: object.info)

        var fields = HTTPFields()
        fields[.eTag] = object.info.etag.quoted
        fields[.lastModified] = TimestampFormat.imfFixdate(object.info.lastModified)
        fields[.contentType] = object.info.contentType
        fields[.acceptRanges] = "bytes"
        for (name, value) in object.info.metadata.sorted(by: { $0.key < $1.key }) {
            if name.hasPrefix("x-amz-checksum-") {
                if headers[.init("x-amz-checksum-mode")!]?.uppercased() == "ENABLED", object.range == nil { fields[.init(name)!] = value }
                continue
            }
            fields[.init(name)!] = value
        }
        for name in ["content-type", "content-language", "expires", "cache-control", "content-disposition", "content-encoding"] {
            if let value = s3.value("response-" + name) { fields[.init(name)!] = value }
        }
        let length = object.range?.count ?? object.info.size
        fields[.contentLength] = String(length)
        var status = HTTPResponse.Status.ok
        if let range = object.range {
            status = .partialContent
            fields[.contentRange] = "bytes \(range.first)-\(range.last)/\(object.info.size)"
        }
        if head { return Response(status: status, headers: fields) }
        let body = object.body
        if let buffer = body.buffer { return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: buffer)) }
        return Response(
            status: status, headers: fields,
            body: ResponseBody(contentLength: length) { writer in
                for try await chunk in body { try await writer.write(chunk) }
                try await writer.finish(nil)
            }
        )
    }

    static func head(_ store: any ObjectStore, _ key: ObjectName) async throws -> ObjectInfo {
        do {
            return try await store.head(key, ifNoneMatch: nil)
        } catch {
            throw S3ServerErrors.from(error)
        }
    }

    /// If-Match / If-Unmodified-Since (412) and If-None-Match / If-Modified-Since (304), with
    /// RFC 9110's precedence: an ETag condition makes its date twin ignored.
    static func checkReadConditions(_ headers: HTTPFields, info: ObjectInfo) throws(S3Error) {
        let modified = info.lastModified.timeIntervalSince1970.rounded(.down)
        if let match = headers[.ifMatch] {
            let tags = match.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard tags.contains("*") || tags.contains(where: { ETag($0) == info.etag }) else { throw S3ServerErrors.preconditionFailed }
        } else if let since = headers[.ifUnmodifiedSince].flatMap(TimestampFormat.parseIMFFixdate), modified > since.timeIntervalSince1970 {
            throw S3ServerErrors.preconditionFailed
        }
        if let none = headers[.ifNoneMatch] {
            let tags = none.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if tags.contains("*") || tags.contains(where: { ETag($0) == info.etag }) {
                throw S3Error(code: "NotModified", message: "Not Modified", status: 304)
            }
        } else if let since = headers[.ifModifiedSince].flatMap(TimestampFormat.parseIMFFixdate), modified <= since.timeIntervalSince1970 {
            throw S3Error(code: "NotModified", message: "Not Modified", status: 304)
        }
    }

    func deleteObject(_ request: Request, store: any ObjectStore, key: ObjectName) async throws -> Response {
        let ifMatch = request.headers[.ifMatch].map { ETag($0.trimmingCharacters(in: .whitespaces)) }
        do {
            try await store.delete(key, ifMatch: ifMatch)
        } catch let error as ObjectStoreError where error.code == .notFound && ifMatch != nil {
            throw S3ServerErrors.noSuchKey()
        } catch {
            throw S3ServerErrors.from(error)
        }
        return Response(status: .noContent)
    }
}
