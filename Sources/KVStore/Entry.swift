import Foundation
import NIOCore
import ObjectStore

/// What the store knows about a stored value, without the value itself.
public struct EntryInfo: Sendable, Equatable {
    public var key: Key
    /// Size of the value in bytes.
    public var size: Int
    /// The backend's entity tag of the value; use it for conditional requests.
    public var etag: ETag
    public var lastModified: Date
    public var contentType: String
    /// The value's version: 1 for the first write of the key, one more for each later write.
    public var version: Int64
    /// When the value expires; nil for never.
    public var expiresAt: UnixMilliseconds?

    public init(
        key: Key, size: Int, etag: ETag, lastModified: Date, contentType: String, version: Int64, expiresAt: UnixMilliseconds?
    ) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.contentType = contentType
        self.version = version
        self.expiresAt = expiresAt
    }

    init(key: Key, object: ObjectInfo) {
        let metadata = EntryMetadata(object.metadata)
        self.init(
            key: key, size: object.size, etag: object.etag, lastModified: metadata.createdAt?.date ?? object.lastModified,
            contentType: object.contentType, version: metadata.version, expiresAt: metadata.expiresAt
        )
    }

    var metadata: EntryMetadata {
        EntryMetadata(version: self.version, expiresAt: self.expiresAt, createdAt: UnixMilliseconds(self.lastModified))
    }
}

/// A stored value with its attributes.
public struct Entry: Sendable {
    public var info: EntryInfo
    public var value: ByteBuffer
}

/// The acknowledgement of a write: it is durable in the backend when this is returned.
public struct WriteReceipt: Sendable, Equatable {
    public var key: Key
    /// Bytes written.
    public var size: Int
    public var etag: ETag
    /// The version this write created.
    public var version: Int64
    /// When the value expires; nil for never.
    public var expiresAt: UnixMilliseconds?
}
