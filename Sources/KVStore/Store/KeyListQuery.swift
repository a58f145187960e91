public import ObjectStore

/// What to list: keys in key order (UTF-8 byte order), optionally by prefix and range, one page
/// at a time. Prefix, bounds and delimiter are byte strings: they match and compare keys by their
/// UTF-8 bytes, never by canonical equivalence.
public struct KeyListQuery: Sendable, Equatable {
    public static let defaultLimit = 100
    public static let maximumLimit = ListRequest.maximumPageSize

    /// Only keys whose bytes start with these.
    public var prefix: ObjectName
    /// Only keys at or after this one.
    public var start: ObjectName?
    /// Only keys before this one.
    public var end: ObjectName?
    /// Rolls keys that contain it after the prefix up into one common prefix each, as S3 does.
    public var delimiter: ObjectName?
    /// Items and common prefixes per page, 1...``maximumLimit``.
    public var limit: Int
    /// Where the previous page stopped: its ``KeyListPage/continuation``.
    public var continuation: String?

    public init(
        prefix: ObjectName = "", start: ObjectName? = nil, end: ObjectName? = nil, delimiter: ObjectName? = nil,
        limit: Int = KeyListQuery.defaultLimit, continuation: String? = nil
    ) {
        self.prefix = prefix
        self.start = start
        self.end = end
        self.delimiter = delimiter
        self.limit = limit
        self.continuation = continuation
    }
}
