import Foundation

/// One ListObjectsV2 request.
public struct ListRequest: Sendable, Equatable {
    /// The most keys (objects plus common prefixes) a page can hold, as on S3.
    public static let maximumPageSize = 1000

    /// Only keys starting with this prefix.
    public var prefix: String
    /// Only keys after this one (exclusive). Ignored when `continuationToken` is set, as on S3.
    public var startAfter: String?
    /// The opaque token of the previous page's ``ListPage/nextContinuationToken``.
    public var continuationToken: String?
    /// Page size, clamped to 1...``maximumPageSize``.
    public var maxKeys: Int
    /// Groups keys that contain this string after the prefix into ``ListPage/commonPrefixes``.
    public var delimiter: String?

    public init(
        prefix: String = "",
        startAfter: String? = nil,
        continuationToken: String? = nil,
        maxKeys: Int = ListRequest.maximumPageSize,
        delimiter: String? = nil
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

/// An object in a listing: the attributes ListObjectsV2 reports (no content type or metadata).
public struct ObjectSummary: Sendable, Equatable {
    public var key: String
    public var size: Int
    public var etag: ETag
    public var lastModified: Date

    public init(key: String, size: Int, etag: ETag, lastModified: Date) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
    }
}

/// One page of a listing.
public struct ListPage: Sendable, Equatable {
    /// Objects in ascending byte order of their UTF-8 keys.
    public var objects: [ObjectSummary]
    /// With a delimiter: the distinct key prefixes up to and including the delimiter, ascending.
    public var commonPrefixes: [String]
    /// Present when more results follow; pass it back as ``ListRequest/continuationToken``.
    public var nextContinuationToken: String?

    public init(objects: [ObjectSummary], commonPrefixes: [String] = [], nextContinuationToken: String? = nil) {
        self.objects = objects
        self.commonPrefixes = commonPrefixes
        self.nextContinuationToken = nextContinuationToken
    }

    public var isTruncated: Bool { self.nextContinuationToken != nil }
}

/// The outcome of ``ObjectStore/deleteMany(_:)``.
public struct DeleteManyResult: Sendable, Equatable {
    /// S3's limit of keys in one DeleteObjects request.
    public static let maximumKeys = 1000

    /// A key that could not be deleted, with the backend's reason.
    public struct Failure: Sendable, Equatable {
        public var key: String
        public var code: String
        public var message: String

        public init(key: String, code: String, message: String) {
            self.key = key
            self.code = code
            self.message = message
        }
    }

    public var deleted: [String]
    public var failed: [Failure]

    public init(deleted: [String], failed: [Failure] = []) {
        self.deleted = deleted
        self.failed = failed
    }
}
