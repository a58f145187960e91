import Foundation
import Hummingbird
import NIOCore
import ObjectStore
import S3Protocol
import WireFormat

/// Multipart uploads. An upload is a record `<upload id>` in the bucket's uploads store (the
/// key, content type and metadata it will have), and its parts are objects `<upload id>/<part>`
/// there. Completing streams the parts, in order, into the bucket as one object under the
/// request's condition, then removes the record and the parts: until then nothing is visible,
/// and an upload that is never completed stays apart from the bucket's objects.
extension S3Responder {
    /// The smallest part but the last, as on S3.
    static let minimumPartBytes = 5 << 20
    static let maximumPartNumber = 10_000
    /// The largest part, as on S3.
    static let maximumPartBytes = 5 << 30

    struct UploadRecord: Codable {
        /// The key's bytes, base64: a name is bytes, and JSON strings are not.
        var key: String
        var contentType: String
        var metadata: [String: String]
    }

    static func partName(_ uploadID: String, _ number: Int) -> ObjectName {
        ObjectName(uploadID + "/" + String(repeating: "0", count: max(0, 5 - String(number).count)) + String(number))
    }

    func createMultipartUpload(_ request: Request, bucket: String, key: ObjectName) async throws -> Response {
        let uploads = try self.buckets.uploads(bucket)
        let record = UploadRecord(
            key: Data(key.utf8).base64EncodedString(), contentType: request.headers[.contentType] ?? "binary/octet-stream",
            metadata: Self.storedMetadata(request.headers)
        )
        let uploadID = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        do {
            _ = try await uploads.put(ObjectName(uploadID), body: ByteBuffer(bytes: try JSONEncoder().encode(record)), options: PutOptions())
        } catch {
            throw S3ServerErrors.from(error)
        }
        var writer = XMLWriter()
        writer.element("InitiateMultipartUploadResult", namespace: Self.namespace) {
            $0.element("Bucket", bucket)
            $0.element("Key", key.string)
            $0.element("UploadId", uploadID)
        }
        return Self.xmlResponse(writer)
    }

    /// The upload's record, checked to belong to `key`.
    func uploadRecord(_ uploads: any ObjectStore, uploadID: String, key: ObjectName) async throws -> UploadRecord {
        let noSuchUpload = S3Error(
            code: "NoSuchUpload",
            message: "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
            status: 404
        )
        guard !uploadID.isEmpty, uploadID.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { throw noSuchUpload }
        let stored: StoredObject
        do {
            stored = try await uploads.get(ObjectName(uploadID), ifNoneMatch: nil)
        } catch let error as ObjectStoreError where error.code == .notFound {
            throw noSuchUpload
        }
        guard let record = try? JSONDecoder().decode(UploadRecord.self, from: Data(stored.body.readableBytesView)),
            Data(base64Encoded: record.key) == Data(key.utf8)
        else { throw noSuchUpload }
        return record
    }

    func uploadPart(_ request: Request, _ s3: S3Request, bucket: String, key: ObjectName, verified: SigV4Verifier.Verified?) async throws -> Response {
        let uploads = try self.buckets.uploads(bucket)
        let uploadID = s3.value("uploadId") ?? ""
        guard let number = s3.value("partNumber").flatMap(Int.init), (1...Self.maximumPartNumber).contains(number) else {
            throw S3ServerErrors.invalidArgument("Part number must be an integer between 1 and 10000, inclusive")
        }
        _ = try await self.uploadRecord(uploads, uploadID: uploadID, key: key)
        if request.headers[.init("x-amz-copy-source")!] != nil {
            return try await self.uploadPartCopy(request, uploads: uploads, part: Self.partName(uploadID, number))
        }
        let expectations = try self.bodyExpectations(request.headers, verified: verified)
        return try await self.storeBody(request, expectations: expectations, into: uploads, as: Self.partName(uploadID, number), options: PutOptions())
    }

    func completeMultipartUpload(_ request: Request, _ s3: S3Request, bucket: String, key: ObjectName) async throws -> Response {
        let store = try self.buckets.store(bucket)
        let uploads = try self.buckets.uploads(bucket)
        let uploadID = s3.value("uploadId") ?? ""
        let record = try await self.uploadRecord(uploads, uploadID: uploadID, key: key)
        let malformed = S3Error(code: "MalformedXML", message: "The XML you provided was not well-formed or did not validate against our published schema.", status: 400)
        let xml = try await request.body.collect(upTo: 4 << 20)
        guard let root = try? XMLElement.parse(Array(xml.readableBytesView)), root.name == "CompleteMultipartUpload" else { throw malformed }
        var parts: [(number: Int, etag: ETag)] = []
        for part in root.children("Part") {
            guard let number = part.value("PartNumber").flatMap(Int.init), let etag = part.value("ETag") else { throw malformed }
            parts.append((number, ETag(etag)))
        }
        guard !parts.isEmpty else {
            throw S3Error(code: "MalformedXML", message: "The XML you provided was not well-formed or did not validate against our published schema.", status: 400)
        }
        guard zip(parts, parts.dropFirst()).allSatisfy({ $0.number < $1.number }) else {
            throw S3Error(code: "InvalidPartOrder", message: "The list of parts was not in ascending order. Parts must be ordered by part number.", status: 400)
        }
        var total = 0
        var partTags: [ETag] = []
        for (index, part) in parts.enumerated() {
            let invalid = S3Error(code: "InvalidPart", message: "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.", status: 400)
            let info: ObjectInfo
            do {
                info = try await uploads.head(Self.partName(uploadID, part.number), ifNoneMatch: nil)
            } catch let error as ObjectStoreError where error.code == .notFound {
                throw invalid
            }
            guard info.etag == part.etag else { throw invalid }
            if index < parts.count - 1, info.size < Self.minimumPartBytes {
                throw S3Error(code: "EntityTooSmall", message: "Your proposed upload is smaller than the minimum allowed object size.", status: 400)
            }
            total += info.size
            partTags.append(info.etag)
        }
        let condition = try Self.writeCondition(request.headers)
        let names = parts.map { Self.partName(uploadID, $0.number) }
        let etag: ETag
        do {
            etag = try await store.put(
                key, streaming: ObjectBody(PartsBody(uploads: uploads, names: names), length: total),
                options: PutOptions(
                    contentType: record.contentType, metadata: record.metadata, condition: condition, entityTag: Self.multipartETag(partTags)
                )
            )
        } catch {
            throw S3ServerErrors.from(error)
        }
        try? await self.removeUpload(uploads, uploadID: uploadID)
        var writer = XMLWriter()
        writer.element("CompleteMultipartUploadResult", namespace: Self.namespace) {
            $0.element("Location", "/\(bucket)/\(PercentEncoding.encode(key.utf8, keepSlash: true))")
            $0.element("Bucket", bucket)
            $0.element("Key", key.string)
            $0.element("ETag", etag.quoted)
        }
        return Self.xmlResponse(writer)
    }

    /// S3's entity tag of a multipart object: the MD5 of its parts' binary MD5s, a dash, and
    /// the number of parts. Clients know a multipart object by the dash and do not compare it
    /// with the MD5 of the bytes they read.
    static func multipartETag(_ parts: [ETag]) -> ETag {
        var digests: [UInt8] = []
        for part in parts {
            let hex = String(Substring(part.quoted.utf8.dropFirst().dropLast()))
            digests += Hex.decode(hex) ?? Array(hex.utf8)
        }
        let combined = ETag.md5(of: digests).quoted
        return ETag(String(Substring(combined.utf8.dropLast())) + "-\(parts.count)\"")
    }

    func abortMultipartUpload(_ s3: S3Request, bucket: String, key: ObjectName) async throws -> Response {
        let uploads = try self.buckets.uploads(bucket)
        let uploadID = s3.value("uploadId") ?? ""
        _ = try await self.uploadRecord(uploads, uploadID: uploadID, key: key)
        try await self.removeUpload(uploads, uploadID: uploadID)
        return Response(status: .noContent)
    }

    /// Deletes an upload's parts, then its record.
    func removeUpload(_ uploads: any ObjectStore, uploadID: String) async throws {
        for _ in 0..<((Self.maximumPartNumber / DeleteManyResult.maximumKeys) + 2) {
            let page = try await uploads.list(ListRequest(prefix: ObjectName(uploadID + "/")))
            if page.objects.isEmpty { break }
            _ = try await uploads.deleteMany(page.objects.map(\.name))
        }
        try await uploads.delete(ObjectName(uploadID), ifMatch: nil)
    }

    func listParts(_ s3: S3Request, bucket: String, key: ObjectName) async throws -> Response {
        let uploads = try self.buckets.uploads(bucket)
        let uploadID = s3.value("uploadId") ?? ""
        _ = try await self.uploadRecord(uploads, uploadID: uploadID, key: key)
        let maxParts = min(s3.value("max-parts").flatMap(Int.init) ?? 1000, 1000)
        let marker = s3.value("part-number-marker").flatMap(Int.init) ?? 0
        let page = try await uploads.list(
            ListRequest(prefix: ObjectName(uploadID + "/"), startAfter: marker > 0 ? Self.partName(uploadID, marker) : nil, maxKeys: max(maxParts, 1))
        )
        var writer = XMLWriter()
        writer.element("ListPartsResult", namespace: Self.namespace) { writer in
            writer.element("Bucket", bucket)
            writer.element("Key", key.string)
            writer.element("UploadId", uploadID)
            writer.element("PartNumberMarker", String(marker))
            let last = page.objects.last.flatMap { Int($0.name.string.split(separator: "/").last ?? "") }
            if let last { writer.element("NextPartNumberMarker", String(last)) }
            writer.element("MaxParts", String(maxParts))
            writer.element("IsTruncated", page.isTruncated ? "true" : "false")
            for part in page.objects {
                writer.element("Part") {
                    $0.element("PartNumber", String(Int(part.name.string.split(separator: "/").last ?? "") ?? 0))
                    $0.element("LastModified", TimestampFormat.iso8601(part.lastModified))
                    $0.element("ETag", part.etag.quoted)
                    $0.element("Size", String(part.size))
                }
            }
        }
        return Self.xmlResponse(writer)
    }
}

/// The parts of an upload, read one after another as one body, each opened only when reached.
struct PartsBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let uploads: any ObjectStore
    let names: [ObjectName]

    func makeAsyncIterator() -> Iterator { Iterator(uploads: self.uploads, names: self.names[...]) }

    struct Iterator: AsyncIteratorProtocol {
        let uploads: any ObjectStore
        var names: ArraySlice<ObjectName>
        var current: ObjectBody.Iterator?

        mutating func next() async throws -> ByteBuffer? {
            while true {
                if var current = self.current {
                    let chunk = try await current.next()
                    self.current = current
                    if let chunk { return chunk }
                    self.current = nil
                }
                guard let name = self.names.popFirst() else { return nil }
                self.current = try await self.uploads.stream(name, ifNoneMatch: nil, range: nil).body.makeAsyncIterator()
            }
        }
    }
}
