public import ObjectStore

/// The condition a write depends on, as a client states it (RFC 9110 §13.1).
public enum WritePrecondition: Sendable, Equatable {
    /// Write whatever is stored.
    case none
    /// `If-Match: "<etag>"`: compare and swap; only replace the value with this tag.
    case ifMatch(ETag)
    /// `If-Match: *`: only replace an existing value.
    case ifExists
    /// `If-None-Match: *`: only create.
    case ifNoneExists
}
