public import ObjectStore

/// One page of a listing.
public struct KeyListPage: Sendable, Equatable {
    /// Live values, in key order; expired values are never listed.
    public var entries: [EntryInfo]
    /// With a delimiter: the common prefixes on this page, in order.
    public var commonPrefixes: [ObjectName]
    /// Present when more may follow: pass it back as ``KeyListQuery/continuation``. A page may
    /// hold fewer than `limit` items (or none) and still have a continuation.
    public var continuation: String?
}
