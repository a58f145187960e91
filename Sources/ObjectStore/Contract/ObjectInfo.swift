public import Foundation

/// An object's attributes, as HeadObject reports them.
public struct ObjectInfo: Sendable, Equatable {
    public var name: ObjectName
    /// Size of the body in bytes.
    public var size: Int
    public var etag: ETag
    /// When the object was last written; S3 reports whole seconds on reads.
    public var lastModified: Date
    public var contentType: String
    /// User metadata with lower-case names.
    public var metadata: [String: String]

    public init(name: ObjectName, size: Int, etag: ETag, lastModified: Date, contentType: String, metadata: [String: String]) {
        self.name = name
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.contentType = contentType
        self.metadata = metadata
    }
}
