public import Foundation
public import ObjectStore

/// What the store knows about a stored value, without the value itself.
public struct EntryInfo: Sendable, Equatable {
    public var key: Key
    /// Size of the value in bytes.
    public var size: Int
    /// The backend's entity tag of the value; use it for conditional requests. It differs for
    /// every write, even of the same bytes.
    public var etag: ETag
    public var lastModified: Date
    public var contentType: String
    /// The value's version: 1 for the first write of the key, one more for each later write.
    public var version: Int64
    /// When the value expires; nil for never.
    public var expiresAt: UnixMilliseconds?
    /// The write that stored the value; nil for values s3kv did not write.
    var writeID: WriteID?
    /// The write this one replaced, if s3kv recorded it.
    var replaces: WriteID?

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
            key: key, size: ValueEncoding.valueSize(objectSize: object.size, metadata: metadata), etag: object.etag,
            lastModified: metadata.createdAt?.date ?? object.lastModified,
            contentType: object.contentType, version: metadata.version, expiresAt: metadata.expiresAt
        )
        self.writeID = metadata.writeID
        self.replaces = metadata.replaces
    }

    var metadata: EntryMetadata {
        EntryMetadata(
            version: self.version, expiresAt: self.expiresAt, createdAt: UnixMilliseconds(self.lastModified),
            writeID: self.writeID, replaces: self.replaces
        )
    }
}
