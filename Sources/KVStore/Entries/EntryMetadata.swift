import ObjectStore

/// The key-value attributes stored with a value as object metadata (`x-amz-meta-*` on S3).
///
/// Values stored without these attributes (before versions existed, or by another tool) read as
/// version 1 with no expiry and no write id, and their bodies as the value itself, so old data
/// stays readable.
struct EntryMetadata: Sendable, Equatable {
    static let versionName = "version"
    static let expiresAtName = "expires-at"
    static let createdAtName = "created-at"
    static let writeIDName = "write-id"
    static let replacesName = "replaces"

    /// Starts at 1 and grows by one with each write of the key.
    var version: Int64
    /// When the value stops being readable; nil for never.
    var expiresAt: UnixMilliseconds?
    /// When this version was written. Archived copies keep it, so history shows write times.
    var createdAt: UnixMilliseconds?
    /// The write that stored the value; its bytes also end the object's body.
    var writeID: WriteID?
    /// The write this one replaced, when it replaced one: a writer whose answer was lost finds
    /// its write here when another writer has already built on it.
    var replaces: WriteID?

    init(version: Int64, expiresAt: UnixMilliseconds?, createdAt: UnixMilliseconds?, writeID: WriteID?, replaces: WriteID? = nil) {
        self.version = version
        self.expiresAt = expiresAt
        self.createdAt = createdAt
        self.writeID = writeID
        self.replaces = replaces
    }

    init(_ metadata: [String: String]) {
        self.version = metadata[Self.versionName].flatMap(Int64.init).flatMap { $0 > 0 ? $0 : nil } ?? 1
        self.expiresAt = metadata[Self.expiresAtName].flatMap(Int64.init).map(UnixMilliseconds.init)
        self.createdAt = metadata[Self.createdAtName].flatMap(Int64.init).map(UnixMilliseconds.init)
        self.writeID = metadata[Self.writeIDName].flatMap(WriteID.init(hex:))
        self.replaces = metadata[Self.replacesName].flatMap(WriteID.init(hex:))
    }

    var objectMetadata: [String: String] {
        var metadata = [Self.versionName: String(self.version)]
        if let expiresAt { metadata[Self.expiresAtName] = String(expiresAt.value) }
        if let createdAt { metadata[Self.createdAtName] = String(createdAt.value) }
        if let writeID { metadata[Self.writeIDName] = writeID.hex }
        if let replaces { metadata[Self.replacesName] = replaces.hex }
        return metadata
    }

    /// Whether the value is expired at `now`: from its expiry instant on, it is gone.
    func isExpired(at now: UnixMilliseconds) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt <= now
    }
}
