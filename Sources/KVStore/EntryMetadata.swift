import ObjectStore

/// The key-value attributes stored with a value as object metadata (`x-amz-meta-*` on S3).
///
/// Values stored without these attributes (before versions existed) read as version 1 with no
/// expiry, so old data stays readable.
struct EntryMetadata: Sendable, Equatable {
    static let versionName = "version"
    static let expiresAtName = "expires-at"
    static let createdAtName = "created-at"

    /// Starts at 1 and grows by one with each write of the key.
    var version: Int64
    /// When the value stops being readable; nil for never.
    var expiresAt: UnixMilliseconds?
    /// When this version was written. Archived copies keep it, so history shows write times.
    var createdAt: UnixMilliseconds?

    init(version: Int64, expiresAt: UnixMilliseconds?, createdAt: UnixMilliseconds?) {
        self.version = version
        self.expiresAt = expiresAt
        self.createdAt = createdAt
    }

    init(_ metadata: [String: String]) {
        self.version = metadata[Self.versionName].flatMap(Int64.init).flatMap { $0 > 0 ? $0 : nil } ?? 1
        self.expiresAt = metadata[Self.expiresAtName].flatMap(Int64.init).map(UnixMilliseconds.init)
        self.createdAt = metadata[Self.createdAtName].flatMap(Int64.init).map(UnixMilliseconds.init)
    }

    var objectMetadata: [String: String] {
        var metadata = [Self.versionName: String(self.version)]
        if let expiresAt { metadata[Self.expiresAtName] = String(expiresAt.value) }
        if let createdAt { metadata[Self.createdAtName] = String(createdAt.value) }
        return metadata
    }

    /// Whether the value is expired at `now`: from its expiry instant on, it is gone.
    func isExpired(at now: UnixMilliseconds) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt <= now
    }
}
