/// One ListObjectsV2 request.
public struct ListRequest: Sendable, Equatable {
    /// The most keys (objects plus common prefixes) a page can hold, as on S3.
    public static let maximumPageSize = 1000

    /// Only names starting with these bytes.
    public var prefix: ObjectName
    /// Only names after this one (exclusive). Ignored when `continuationToken` is set, as on S3.
    public var startAfter: ObjectName?
    /// The opaque token of the previous page's ``ListPage/nextContinuationToken``.
    public var continuationToken: String?
    /// Page size, clamped to 1...``maximumPageSize``.
    public var maxKeys: Int
    /// Groups names that contain these bytes after the prefix into ``ListPage/commonPrefixes``.
    public var delimiter: ObjectName?

    public init(
        prefix: ObjectName = "",
        startAfter: ObjectName? = nil,
        continuationToken: String? = nil,
        maxKeys: Int = ListRequest.maximumPageSize,
        delimiter: ObjectName? = nil
    ) {
        self.prefix = prefix
        self.startAfter = startAfter
        self.continuationToken = continuationToken
        self.maxKeys = maxKeys
        self.delimiter = delimiter
    }

    /// ``maxKeys`` clamped to 1...``maximumPageSize``, as S3 treats it.
    public var clampedMaxKeys: Int { min(max(self.maxKeys, 1), Self.maximumPageSize) }
}
