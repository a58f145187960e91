public import Foundation

/// An object in a listing: the attributes ListObjectsV2 reports (no content type or metadata).
public struct ObjectSummary: Sendable, Equatable {
    public var name: ObjectName
    public var size: Int
    public var etag: ETag
    public var lastModified: Date

    public init(name: ObjectName, size: Int, etag: ETag, lastModified: Date) {
        self.name = name
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
    }
}
