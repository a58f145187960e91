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

    init(key: Key, object: ObjectInfo) {
        self.key = key
        self.size = object.size
        self.etag = object.etag
        self.lastModified = object.lastModified
        self.contentType = object.contentType
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
}
