import Crypto
import Foundation
import NIOCore
import NIOHTTP1
public import ObjectStore
import S3Protocol

extension S3ObjectStore {
    /// Stores a body that may be a stream. Up to ``S3Configuration/multipartThreshold`` bytes it
    /// is one PutObject; above (or of unknown length), a multipart upload: parts of
    /// ``S3Configuration/partSize`` (larger for bodies that would need more than 10,000), up to
    /// ``S3Configuration/uploadConcurrency`` in flight, each with its Content-MD5 and retried on its
    /// own, then CompleteMultipartUpload with the write's condition. Memory stays within about
    /// part size × (concurrency + 1). Any failure, or the caller's cancellation, aborts the
    /// upload, so no incomplete upload is left behind.
    public func put(_ name: ObjectName, streaming body: ObjectBody, options: PutOptions) async throws -> ETag {
        try Self.checkNoEntityTag(options)
        if let buffer = body.buffer { return try await self.put(name, body: buffer, options: options) }
        let threshold = self.client.configuration.multipartThreshold
        // A stream can be iterated once only: everything below reads through this iterator.
        var iterator = body.makeAsyncIterator()
        // What is read before deciding: all of a small body, the first bytes of a large one.
        var head = ByteBuffer()
        do {
            if let length = body.length, length < threshold {
                // The iterator checks the total against the declared length.
                while let chunk = try await iterator.next() { head.writeImmutableBuffer(chunk) }
                return try await self.put(name, body: head, options: options)
            }
            if body.length == nil {
                // A body of unknown length that ends before the threshold is one PutObject.
                var ended = false
                while head.readableBytes < threshold, !ended {
                    if let chunk = try await iterator.next() { head.writeImmutableBuffer(chunk) } else { ended = true }
                }
                if ended { return try await self.put(name, body: head, options: options) }
            }
        } catch let error as ObjectBodyError {
            throw ObjectStoreError(.invalidArgument, error.description)
        }
        try ObjectLimits.checkName(name)
        try ObjectLimits.checkContentType(options.contentType)
        try ObjectLimits.checkMetadata(options.metadata)
        if let length = body.length, length > Self.maximumMultipartBytes {
            throw ObjectStoreError(.invalidArgument, "the body is \(length) bytes; S3 holds at most \(Self.maximumMultipartBytes) in one object")
        }
        let partSize = Self.partSize(for: body.length, configured: self.client.configuration.partSize)
        let uploadID = try await self.createMultipartUpload(name, options: options)
        do {
            let parts = try await self.uploadParts(name, uploadID: uploadID, head: head, rest: &iterator, partSize: partSize)
            return try await self.completeMultipartUpload(name, uploadID: uploadID, parts: parts, condition: options.condition)
        } catch {
            await self.abortMultipartUpload(name, uploadID: uploadID)
            if let error = error as? ObjectBodyError { throw ObjectStoreError(.invalidArgument, error.description) }
            throw error
        }
    }

    /// The most memory one streamed put holds: the bytes read before deciding on multipart, or
    /// the parts in flight and the one being filled (a part may run one chunk over its size).
    public static func streamBufferBytes(_ configuration: S3Configuration) -> Int {
        max(configuration.multipartThreshold, max(configuration.partSize, minimumPartSize) * (max(1, configuration.uploadConcurrency) + 1))
    }

    /// S3's limits: 10,000 parts, 5 TiB in all.
    static let maximumParts = 10_000
    static let maximumMultipartBytes = 5 << 40
    static let minimumPartSize = 5 << 20

    /// The part size for a body of `length`: the configured one, or larger when 10,000 parts of
    /// it would not hold the body.
    static func partSize(for length: Int?, configured: Int) -> Int {
        let configured = max(configured, minimumPartSize)
        guard let length else { return configured }
        return max(configured, (length + maximumParts - 1) / maximumParts)
    }

    func createMultipartUpload(_ name: ObjectName, options: PutOptions) async throws -> String {
        var headers: [(name: String, value: String)] = [("content-type", options.contentType)]
        headers += options.metadata.sorted { $0.key < $1.key }.map { ("x-amz-meta-\($0.key)", $0.value) }
        let response = try await self.perform(name) {
            try await self.client.send(.POST, key: self.objectKey(name), query: [("uploads", "")], headers: headers)
        }
        guard let uploadID = try Self.xml(response.body).value("UploadId"), !uploadID.isEmpty else {
            throw ObjectStoreError(.backendFailure, "CreateMultipartUpload answered without an UploadId")
        }
        return uploadID
    }

    /// Reads the body into parts and uploads them, at most ``S3Configuration/uploadConcurrency``
    /// at a time; returns each part's number and ETag, in order.
    private func uploadParts(
        _ name: ObjectName, uploadID: String, head: ByteBuffer, rest: inout ObjectBody.Iterator, partSize: Int
    ) async throws -> [(Int, String)] {
        let concurrency = max(1, self.client.configuration.uploadConcurrency)
        return try await withThrowingTaskGroup(of: (Int, String).self) { group in
            var parts: [(Int, String)] = []
            var number = 0
            var inFlight = 0
            // Parts are cut at exactly `partSize` into buffers reserved at that size: appending
            // past a buffer's capacity would double it, and every part in flight with it.
            var current = ByteBuffer()
            current.reserveCapacity(partSize)
            func launch(_ part: ByteBuffer) async throws {
                if inFlight >= concurrency, let done = try await group.next() {
                    parts.append(done)
                    inFlight -= 1
                }
                number += 1
                guard number <= Self.maximumParts else {
                    throw ObjectStoreError(.invalidArgument, "the body needs more than \(Self.maximumParts) parts of \(partSize) bytes")
                }
                let partNumber = number
                group.addTask { (partNumber, try await self.uploadPart(name, uploadID: uploadID, number: partNumber, body: part)) }
                inFlight += 1
            }
            func append(_ chunk: ByteBuffer) async throws {
                var chunk = chunk
                while chunk.readableBytes > 0 {
                    current.writeImmutableBuffer(chunk.readSlice(length: min(partSize - current.readableBytes, chunk.readableBytes))!)
                    if current.readableBytes == partSize {
                        try await launch(current)
                        current = ByteBuffer()
                        current.reserveCapacity(partSize)
                    }
                }
            }
            try await append(head)
            while let chunk = try await rest.next() { try await append(chunk) }
            if current.readableBytes > 0 || number == 0 { try await launch(current) }
            for try await done in group { parts.append(done) }
            return parts.sorted { $0.0 < $1.0 }
        }
    }

    /// One part, with its Content-MD5 so S3 rejects it if it arrives altered; retried on its own.
    private func uploadPart(_ name: ObjectName, uploadID: String, number: Int, body: ByteBuffer) async throws -> String {
        let md5 = body.withUnsafeReadableBytes { Data(Insecure.MD5.hash(data: $0)).base64EncodedString() }
        let response = try await self.perform(name) {
            try await self.client.send(
                .PUT, key: self.objectKey(name), query: [("partNumber", String(number)), ("uploadId", uploadID)],
                headers: [("content-md5", md5)], body: body
            )
        }
        guard let etag = response.headers.first(name: "etag") else {
            throw ObjectStoreError(.backendFailure, "UploadPart answered without an ETag")
        }
        return etag
    }

    /// CompleteMultipartUpload under the write's condition (`If-Match`, `If-None-Match: *`),
    /// resent only after failures that prove it was not applied, as a conditional PutObject is.
    func completeMultipartUpload(
        _ name: ObjectName, uploadID: String, parts: [(Int, String)], condition: WriteCondition
    ) async throws -> ETag {
        let list = parts.map { "<Part><PartNumber>\($0.0)</PartNumber><ETag>\(XMLWriter.escape($0.1))</ETag></Part>" }.joined()
        let body = ByteBuffer(string: "<CompleteMultipartUpload>\(list)</CompleteMultipartUpload>")
        var headers: [(name: String, value: String)] = [("content-type", "application/xml")]
        switch condition {
        case .none: break
        case .ifNoneExists: headers.append(("if-none-match", "*"))
        case .ifMatch(let etag): headers.append(("if-match", etag.quoted))
        }
        let conditional = condition != .none
        let response = try await self.perform(name, conditional: conditional) {
            try await self.client.send(
                .POST, key: self.objectKey(name), query: [("uploadId", uploadID)], headers: headers, body: body,
                replay: conditional ? .whenNotApplied : .idempotent, patient: true
            )
        }
        // S3 may answer 200 and put an error in the body.
        let root = try Self.xml(response.body)
        if root.name == "Error" {
            let error = S3Error(code: root.value("Code") ?? "Unknown", message: root.value("Message") ?? "", status: 500)
            throw Self.translate(error, name: name, conditional: conditional)
        }
        guard let etag = root.value("ETag") else {
            throw ObjectStoreError(.backendFailure, "CompleteMultipartUpload answered without an ETag")
        }
        return ETag(etag)
    }

    /// Aborts an upload, best effort and on its own budget: it runs when the caller failed or
    /// was cancelled, and must not be cut short by that.
    func abortMultipartUpload(_ name: ObjectName, uploadID: String) async {
        let key = self.objectKey(name)
        let client = self.client
        await Task {
            await Deadline.withoutDeadline {
                _ = try? await Deadline.withTimeout(.seconds(10)) {
                    try await client.send(.DELETE, key: key, query: [("uploadId", uploadID)])
                }
            }
        }.value
    }

    /// The incomplete multipart uploads under `prefix`, by key: what an interrupted upload would
    /// leave behind if it were not aborted.
    public func incompleteUploads(prefix: ObjectName = "") async throws -> [ObjectName] {
        let response = try await self.perform(prefix) {
            try await self.client.send(.GET, query: [("uploads", ""), ("prefix", self.objectKey(prefix))])
        }
        return try Self.xml(response.body).children("Upload").compactMap { $0.value("Key") }.map { ObjectName($0) }
    }
}
