import Foundation
import NIOCore
import NIOHTTP1
public import ObjectStore
import S3Protocol

extension S3ObjectStore {
    /// GetObject with the body streamed as it arrives, all of it or `range` of it (`Range`),
    /// so a large object passes through in bounded memory, at the pace its reader sets.
    public func stream(_ name: ObjectName, ifNoneMatch: ETagMatch?, range: ByteRange?) async throws -> StreamedObject {
        var headers = Self.readHeaders(ifNoneMatch)
        if let range { headers.append(("range", range.header)) }
        let response = try await self.perform(name) {
            try await self.client.sendStreaming(.GET, key: self.objectKey(name), headers: headers)
        }
        if response.status == 304 { throw ObjectStoreError.notModified(name) }
        // A body that breaks off or goes silent mid-way fails in the contract's terms.
        let host = self.client.configuration.hostHeader
        let body = response.body.mapError { error in
            if error is CancellationError { return error }
            return Self.translate(S3Client.transportError(error, host: host), name: name)
        }
        let length = response.headers.first(name: "content-length").flatMap(Int.init) ?? 0
        if response.status == 206, let contentRange = response.headers.first(name: "content-range"),
            let (served, size) = Self.parseContentRange(contentRange)
        {
            return StreamedObject(info: try Self.info(response.headers, name: name, size: size), body: body, range: served)
        }
        return StreamedObject(info: try Self.info(response.headers, name: name, size: length), body: body, range: nil)
    }

    /// `bytes first-last/size`, as S3 answers a ranged read.
    static func parseContentRange(_ value: String) -> (ByteRange, Int)? {
        guard value.hasPrefix("bytes ") else { return nil }
        let parts = value.dropFirst(6).split(separator: "/")
        guard parts.count == 2, let size = Int(parts[1]) else { return nil }
        let bounds = parts[0].split(separator: "-")
        guard bounds.count == 2, let first = Int(bounds[0]), let last = Int(bounds[1]), first <= last else { return nil }
        return (ByteRange(first: first, last: last), size)
    }
}
