/// One page of a listing.
public struct ListPage: Sendable, Equatable {
    /// Objects in ascending byte order of their names.
    public var objects: [ObjectSummary]
    /// With a delimiter: the distinct name prefixes up to and including the delimiter, ascending.
    public var commonPrefixes: [ObjectName]
    /// Present when more results follow; pass it back as ``ListRequest/continuationToken``.
    public var nextContinuationToken: String?

    public init(objects: [ObjectSummary], commonPrefixes: [ObjectName] = [], nextContinuationToken: String? = nil) {
        self.objects = objects
        self.commonPrefixes = commonPrefixes
        self.nextContinuationToken = nextContinuationToken
    }

    public var isTruncated: Bool { self.nextContinuationToken != nil }
}
