import Foundation
import NIOCore
import NIOHTTP1
public import ObjectStore
import S3Protocol

extension S3ObjectStore {
    /// Copies server-side: one CopyObject up to ``S3Configuration/maximumCopyBytes`` (S3's 5 GiB),
    /// and above it a multipart upload whose parts are UploadPartCopy ranges of the source. The
    /// bytes never pass through s3kv either way.
    ///
    /// A larger source is recognised from `options.sourceSize`; without it, from CopyObject's
    /// refusal, after which a HEAD tells the size.
    public func copy(from source: ObjectName, to destination: ObjectName, options: CopyOptions) async throws -> ETag {
        try ObjectLimits.checkName(destination)
        if let replacing = options.replacing {
            try ObjectLimits.checkContentType(replacing.contentType)
            try ObjectLimits.checkMetadata(replacing.metadata)
        }
        let limit = self.client.configuration.maximumCopyBytes
        if let size = options.sourceSize, size > limit {
            return try await self.copyInParts(from: source, to: destination, options: options)
        }
        do {
            return try await self.copyObject(from: source, to: destination, options: options)
        } catch let error as ObjectStoreError where options.sourceSize == nil && error.code == .invalidArgument {
            guard let info = try? await self.head(source, ifNoneMatch: nil), info.size > limit else { throw error }
            return try await self.copyInParts(from: source, to: destination, options: options)
        }
    }

    /// The `x-amz-copy-source` header's value: the source's bucket and key, encoded.
    private func copySource(_ source: ObjectName) -> (name: String, value: String) {
        ("x-amz-copy-source", "/\(self.client.configuration.bucket)/" + SigV4Signer.encodePath(self.objectKey(source)))
    }

    private func copyObject(from source: ObjectName, to destination: ObjectName, options: CopyOptions) async throws -> ETag {
        var headers = [self.copySource(source)]
        if let etag = options.sourceIfMatch { headers.append(("x-amz-copy-source-if-match", etag.quoted)) }
        if let replacing = options.replacing {
            headers.append(("x-amz-metadata-directive", "REPLACE"))
            headers.append(("content-type", replacing.contentType))
            headers += replacing.metadata.sorted { $0.key < $1.key }.map { ("x-amz-meta-\($0.key)", $0.value) }
        }
        let response = try await self.perform(source) { try await self.client.send(.PUT, key: self.objectKey(destination), headers: headers, patient: true) }
        guard let etag = try Self.xml(response.body).value("ETag") else {
            throw ObjectStoreError(.backendFailure, "CopyObject answered without an ETag")
        }
        return ETag(etag)
    }

    /// The part size of a copy in parts: large, since parts move inside S3 (each request is
    /// cheap whatever its size), but never more than CopyObject's limit, nor so small that the
    /// source needs over 10,000 parts.
    static func copyPartSize(size: Int, configuration: S3Configuration) -> Int {
        let preferred = max(configuration.partSize, min(512 << 20, configuration.maximumCopyBytes))
        return Self.partSize(for: size, configured: preferred)
    }

    /// A multipart upload of `destination` whose parts are ranges of `source`, each pinned to the
    /// source's ETag (so a source replaced meanwhile fails the copy instead of mixing two
    /// objects); aborted on any failure.
    private func copyInParts(from source: ObjectName, to destination: ObjectName, options: CopyOptions) async throws -> ETag {
        // The attributes and the ETag to pin come from the source as it is now.
        let info = try await self.head(source, ifNoneMatch: nil)
        if let expected = options.sourceIfMatch, expected != info.etag { throw ObjectStoreError.preconditionFailed(source) }
        let attributes = options.replacing ?? ObjectAttributes(contentType: info.contentType, metadata: info.metadata)
        let partSize = Self.copyPartSize(size: info.size, configuration: self.client.configuration)
        let ranges = stride(from: 0, to: info.size, by: partSize).map { ByteRange(first: $0, last: min($0 + partSize, info.size) - 1) }
        let uploadID = try await self.createMultipartUpload(
            destination, options: PutOptions(contentType: attributes.contentType, metadata: attributes.metadata)
        )
        do {
            let concurrency = max(1, self.client.configuration.uploadConcurrency)
            let parts = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                var parts: [(Int, String)] = []
                for (index, range) in ranges.enumerated() {
                    if index >= concurrency, let done = try await group.next() { parts.append(done) }
                    group.addTask {
                        (index + 1, try await self.uploadPartCopy(source, etag: info.etag, range: range, to: destination, uploadID: uploadID, number: index + 1))
                    }
                }
                for try await done in group { parts.append(done) }
                return parts.sorted { $0.0 < $1.0 }
            }
            return try await self.completeMultipartUpload(destination, uploadID: uploadID, parts: parts, condition: .none)
        } catch {
            await self.abortMultipartUpload(destination, uploadID: uploadID)
            throw error
        }
    }

    /// One UploadPartCopy: `range` of `source`, as long as it still has `etag`; retried on its own.
    private func uploadPartCopy(
        _ source: ObjectName, etag: ETag, range: ByteRange, to destination: ObjectName, uploadID: String, number: Int
    ) async throws -> String {
        let headers = [
            self.copySource(source), ("x-amz-copy-source-range", range.header), ("x-amz-copy-source-if-match", etag.quoted),
        ]
        let response = try await self.perform(source) {
            try await self.client.send(
                .PUT, key: self.objectKey(destination), query: [("partNumber", String(number)), ("uploadId", uploadID)], headers: headers,
                patient: true
            )
        }
        // S3 may answer 200 and put an error in the body, as CompleteMultipartUpload may.
        let root = try Self.xml(response.body)
        guard root.name != "Error", let partETag = root.value("ETag") else {
            throw ObjectStoreError(.backendFailure, "UploadPartCopy failed: \(root.value("Code") ?? "no ETag in its answer")")
        }
        return partETag
    }
}
