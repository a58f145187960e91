import KVStore
import ObjectStore
import WireFormat

/// A stored value's attributes as the API writes them in JSON, in listings and version lists.
struct EntryAttributes: Encodable {
    /// Absent where the key is said once for all items (a key's version list).
    var key: String?
    var version: Int64
    var size: Int
    var etag: String
    /// RFC 3339 with milliseconds, like every timestamp in the API's JSON.
    var lastModified: String
    /// Absent when the value does not expire.
    var expiresAt: String?
    var contentType: String

    init(_ info: EntryInfo, withKey: Bool) {
        self.key = withKey ? info.key.rawValue : nil
        self.version = info.version
        self.size = info.size
        self.etag = info.etag.quoted
        self.lastModified = TimestampFormat.iso8601(info.lastModified)
        self.expiresAt = info.expiresAt.map { TimestampFormat.iso8601($0.date) }
        self.contentType = info.contentType
    }

    enum CodingKeys: String, CodingKey {
        case key, version, size, etag
        case lastModified = "last_modified"
        case expiresAt = "expires_at"
        case contentType = "content_type"
    }
}
