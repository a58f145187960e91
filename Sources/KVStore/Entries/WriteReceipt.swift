public import ObjectStore

/// The acknowledgement of a write: it is durable in the backend when this is returned.
public struct WriteReceipt: Sendable, Equatable {
    public var key: Key
    /// Bytes written.
    public var size: Int
    /// The new value's tag. Nil only when the write was confirmed after its answer was lost and
    /// another write has already replaced it, leaving no tag to report for it.
    public var etag: ETag?
    /// The version this write created.
    public var version: Int64
    /// When the value expires; nil for never.
    public var expiresAt: UnixMilliseconds?
}
