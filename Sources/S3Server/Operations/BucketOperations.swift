import Foundation
import Hummingbird
import NIOCore
import ObjectStore
import S3Protocol
import WireFormat

extension S3Responder {
    static let namespace = "http://s3.amazonaws.com/doc/2006-03-01/"
    static let ownerID = "s3kv"

    func listBuckets() -> Response {
        var writer = XMLWriter()
        writer.element("ListAllMyBucketsResult", namespace: Self.namespace) { writer in
            writer.element("Owner") {
                $0.element("ID", Self.ownerID)
                $0.element("DisplayName", Self.ownerID)
            }
            writer.element("Buckets") { writer in
                for bucket in self.buckets.list() {
                    writer.element("Bucket") {
                        $0.element("Name", bucket.name)
                        $0.element("CreationDate", TimestampFormat.iso8601(bucket.created))
                    }
                }
            }
        }
        return Self.xmlResponse(writer)
    }

    func bucketOperation(_ request: Request, _ s3: S3Request, bucket: String) async throws -> Response {
        for unsupported in ["acl", "policy", "cors", "lifecycle", "tagging", "website", "logging", "notification", "replication",
                            "encryption", "object-lock", "accelerate", "requestPayment", "ownershipControls", "publicAccessBlock"]
        where s3.has(unsupported) {
            throw S3ServerErrors.notImplemented("the bucket '\(unsupported)' sub-resource")
        }
        switch request.method {
        case .put:
            guard !s3.has("versioning") else { throw S3ServerErrors.notImplemented("versioning") }
            let body = try await request.body.collect(upTo: 64 << 10)
            if body.readableBytes > 0 {
                do {
                    _ = try XMLElement.parse(Array(body.readableBytesView))
                } catch {
                    throw S3Error(code: "MalformedXML", message: "The XML you provided was not well-formed or did not validate against our published schema.", status: 400)
                }
            }
            try self.buckets.create(bucket)
            return Response(status: .ok, headers: [.location: "/" + bucket])
        case .head:
            _ = try self.buckets.store(bucket)
            return Response(status: .ok, headers: [.init("x-amz-bucket-region")!: self.configuration.region])
        case .delete:
            try await self.buckets.delete(bucket)
            return Response(status: .noContent)
        case .post where s3.has("delete"):
            return try await self.deleteObjects(request, store: self.buckets.store(bucket))
        case .get:
            let store = try self.buckets.store(bucket)
            if s3.has("location") {
                // us-east-1 is reported as an empty constraint, as S3 does.
                let region = self.configuration.region
                var writer = XMLWriter()
                writer.element("LocationConstraint", namespace: Self.namespace) { if region != "us-east-1" { $0.text(region) } }
                return Self.xmlResponse(writer)
            }
            if s3.has("uploads") { return try await self.listMultipartUploads(bucket: bucket) }
            if s3.has("versioning") {
                var writer = XMLWriter()
                writer.element("VersioningConfiguration", namespace: Self.namespace) { _ in }
                return Self.xmlResponse(writer)
            }
            return try await self.listObjects(s3, bucket: bucket, store: store)
        default:
            throw S3Error(code: "MethodNotAllowed", message: "The specified method is not allowed against this resource.", status: 405)
        }
    }

    /// ListObjectsV2 (`list-type=2`) and V1.
    func listObjects(_ s3: S3Request, bucket: String, store: any ObjectStore) async throws -> Response {
        let v2 = s3.value("list-type") == "2"
        let urlEncoded: Bool
        switch s3.value("encoding-type") {
        case nil: urlEncoded = false
        case "url"?: urlEncoded = true
        default: throw S3ServerErrors.invalidArgument("Invalid Encoding Method specified in Request")
        }
        var maxKeys = 1000
        if let text = s3.value("max-keys") {
            guard let value = Int(text), value >= 0 else { throw S3ServerErrors.invalidArgument("Provided max-keys not an integer or within integer range") }
            maxKeys = min(value, 1000)
        }
        let prefix = ObjectName(s3.value("prefix") ?? "")
        let delimiter = s3.value("delimiter").flatMap { $0.isEmpty ? nil : ObjectName($0) }
        var request = ListRequest(prefix: prefix, maxKeys: max(maxKeys, 1), delimiter: delimiter)
        let marker = v2 ? s3.value("start-after") : s3.value("marker")
        if let marker, !marker.isEmpty {
            var after = marker
            // A marker that is a common prefix skips everything under it, as S3 does.
            if let delimiter, let rest = ObjectName(marker).removingPrefix(prefix), rest.byteCount >= delimiter.byteCount,
                rest.utf8.suffix(delimiter.byteCount).elementsEqual(delimiter.utf8)
            {
                after += String(repeating: "\u{10FFFF}", count: 257)
            }
            request.startAfter = ObjectName(after)
        }
        if v2, let token = s3.value("continuation-token") {
            guard !token.isEmpty else { throw S3ServerErrors.invalidArgument("The continuation token provided is incorrect") }
            request.continuationToken = token
        }
        var page = ListPage(objects: [])
        if maxKeys > 0 {
            do {
                page = try await store.list(request)
            } catch let error as ObjectStoreError where error.code == .invalidArgument {
                throw S3ServerErrors.invalidArgument("The continuation token provided is incorrect")
            }
        }
        func encode(_ text: String) -> String { urlEncoded ? PercentEncoding.encode(text.utf8, keepSlash: true) : text }
        var writer = XMLWriter()
        writer.element("ListBucketResult", namespace: Self.namespace) { writer in
            writer.element("Name", bucket)
            writer.element("Prefix", encode(prefix.string))
            if v2 {
                writer.element("KeyCount", String(page.objects.count + page.commonPrefixes.count))
                if let token = s3.value("continuation-token") { writer.element("ContinuationToken", token) }
                if let startAfter = s3.value("start-after") { writer.element("StartAfter", encode(startAfter)) }
            } else {
                writer.element("Marker", encode(s3.value("marker") ?? ""))
            }
            writer.element("MaxKeys", String(maxKeys))
            if let delimiter { writer.element("Delimiter", encode(delimiter.string)) }
            if urlEncoded { writer.element("EncodingType", "url") }
            writer.element("IsTruncated", page.isTruncated ? "true" : "false")
            if v2 {
                writer.element("NextContinuationToken", ifPresent: page.nextContinuationToken)
            } else if page.isTruncated, delimiter != nil {
                let last = [page.objects.last?.name, page.commonPrefixes.last].compactMap { $0 }.max()
                writer.element("NextMarker", ifPresent: last.map { encode($0.string) })
            }
            for object in page.objects {
                writer.element("Contents") {
                    $0.element("Key", encode(object.name.string))
                    $0.element("LastModified", TimestampFormat.iso8601(object.lastModified))
                    $0.element("ETag", object.etag.quoted)
                    $0.element("Size", String(object.size))
                    $0.element("StorageClass", "STANDARD")
                }
            }
            for common in page.commonPrefixes {
                writer.element("CommonPrefixes") { $0.element("Prefix", encode(common.string)) }
            }
        }
        return Self.xmlResponse(writer)
    }

    /// DeleteObjects: up to 1,000 keys; Quiet reports errors only. Content-MD5 is not required,
    /// as current SDKs send a CRC checksum instead.
    func deleteObjects(_ request: Request, store: any ObjectStore) async throws -> Response {
        let body = try await request.body.collect(upTo: 2 << 20)
        let root: XMLElement
        do {
            root = try XMLElement.parse(Array(body.readableBytesView))
        } catch {
            throw S3Error(code: "MalformedXML", message: "The XML you provided was not well-formed or did not validate against our published schema.", status: 400)
        }
        guard root.name == "Delete" else {
            throw S3Error(code: "MalformedXML", message: "The XML you provided was not well-formed or did not validate against our published schema.", status: 400)
        }
        let quiet = root.value("Quiet") == "true"
        let keys = root.children("Object").compactMap { $0.value("Key") }.map { ObjectName($0) }
        guard !keys.isEmpty, keys.count <= DeleteManyResult.maximumKeys else {
            throw S3Error(code: "MalformedXML", message: "a Delete request names 1 to 1,000 objects", status: 400)
        }
        let result = try await store.deleteMany(keys)
        var writer = XMLWriter()
        writer.element("DeleteResult", namespace: Self.namespace) { writer in
            if !quiet {
                for name in result.deleted { writer.element("Deleted") { $0.element("Key", name.string) } }
            }
            for failure in result.failed {
                writer.element("Error") {
                    $0.element("Key", failure.name.string)
                    $0.element("Code", "InternalError")
                    $0.element("Message", failure.message)
                }
            }
        }
        return Self.xmlResponse(writer)
    }

    /// ListMultipartUploads: the uploads in progress, up to 1,000, in upload-id order.
    func listMultipartUploads(bucket: String) async throws -> Response {
        let uploads = try self.buckets.uploads(bucket)
        let page = try await uploads.list(ListRequest(maxKeys: 1000, delimiter: "/"))
        var entries: [(key: String, id: String, initiated: Date)] = []
        for record in page.objects {
            guard let stored = try? await uploads.get(record.name, ifNoneMatch: nil),
                let decoded = try? JSONDecoder().decode(UploadRecord.self, from: Data(stored.body.readableBytesView)),
                let key = Data(base64Encoded: decoded.key).flatMap({ String(data: $0, encoding: .utf8) })
            else { continue }
            entries.append((key, record.name.string, record.lastModified))
        }
        var writer = XMLWriter()
        writer.element("ListMultipartUploadsResult", namespace: Self.namespace) { writer in
            writer.element("Bucket", bucket)
            writer.element("KeyMarker", "")
            writer.element("UploadIdMarker", "")
            writer.element("MaxUploads", "1000")
            writer.element("IsTruncated", page.isTruncated ? "true" : "false")
            for entry in entries {
                writer.element("Upload") {
                    $0.element("Key", entry.key)
                    $0.element("UploadId", entry.id)
                    $0.element("Initiated", TimestampFormat.iso8601(entry.initiated))
                    $0.element("StorageClass", "STANDARD")
                }
            }
        }
        return Self.xmlResponse(writer)
    }
}
