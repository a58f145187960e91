import Foundation
import NIOCore

/// An object's attributes, as HeadObject reports them.
public struct ObjectInfo: Sendable, Equatable {
    public var key: String
    /// Size of the body in bytes.
    public var size: Int
    public var etag: ETag
    /// When the object was last written; S3 reports whole seconds on reads.
    public var lastModified: Date
    public var contentType: String
    /// User metadata with lower-case names.
    public var metadata: [String: String]

    public init(key: String, size: Int, etag: ETag, lastModified: Date, contentType: String, metadata: [String: String]) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.contentType = contentType
        self.metadata = metadata
    }
}

/// An object with its body, as GetObject returns it.
public struct StoredObject: Sendable {
    public var info: ObjectInfo
    public var body: ByteBuffer

    public init(info: ObjectInfo, body: ByteBuffer) {
        self.info = info
        self.body = body
    }
}
