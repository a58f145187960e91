import NIOCore
import ObjectStore

/// The earlier versions of keys, kept at `versions/<key>/<version>` when history is on.
///
/// Archive before overwrite: version n is copied here, from the bytes read with n's tag, before
/// n+1 is written conditionally on that tag. A crash in between leaves an extra copy, never a
/// gap, and a writer that loses the race retries from a fresh read, so no version is lost and no
/// two writes get the same number. Archived copies keep their expiry and are not served after it.
///
/// Every error it throws is a ``KVError``.
struct VersionHistory: Sendable {
    /// Listing pages read for one key's history at most. A key's own versions fit in one page
    /// (at most ``KVStoreConfiguration/maximumVersionHistory`` plus leftovers); further pages
    /// hold child keys that roll up under the delimiter. Past this bound the listing fails
    /// loudly instead of returning a truncated history.
    static let maximumListingPages = 1000

    let objects: any ObjectStore
    /// Previous versions kept per key; 0 turns history off.
    let limit: Int

    var isEnabled: Bool { self.limit > 0 }

    /// Stores `info`'s version of the key with `value`, the bytes read with `info.etag`, in the
    /// same layout as the current value (value, then its write id). The same version always has
    /// the same bytes, so storing it twice is harmless.
    func archive(_ info: EntryInfo, value: ByteBuffer) async throws {
        let body = info.writeID.map { ValueEncoding.body(value, writeID: $0) } ?? value
        let options = PutOptions(contentType: info.contentType, metadata: info.metadata.objectMetadata)
        try await self.perform(info.key) {
            _ = try await self.objects.put(BucketLayout.versionObject(for: info.key, version: info.version), body: body, options: options)
        }
    }

    /// Drops the version that falls out of the history once `newest` has been archived.
    func prune(_ key: Key, newestArchived newest: Int64) async throws {
        let oldest = newest - Int64(self.limit)
        guard oldest >= 1 else { return }
        try await self.perform(key) { try await self.objects.delete(BucketLayout.versionObject(for: key, version: oldest), ifMatch: nil) }
    }

    /// The number for a key's first write when it has no current value: one past the newest
    /// archived version, so a key deleted or expired and written again continues its numbering.
    func nextVersionForAbsentKey(_ key: Key) async throws -> Int64 {
        guard self.isEnabled else { return 1 }
        return try await self.archivedVersions(of: key).last.map { $0 + 1 } ?? 1
    }

    /// One archived version, or nil.
    func version(_ version: Int64, of key: Key) async throws -> Entry? {
        let name = BucketLayout.versionObject(for: key, version: version)
        return try await self.perform(key) {
            do {
                let object = try await self.objects.get(name, ifNoneMatch: nil)
                let value = try ValueEncoding.value(of: object.body, metadata: EntryMetadata(object.info.metadata), name: name)
                return Entry(info: EntryInfo(key: key, object: object.info), value: value)
            } catch let error as ObjectStoreError where error.code == .notFound {
                return nil
            }
        }
    }

    /// The archived versions of `key` older than `current`, newest first, at most `limit` of
    /// them; older leftovers (from a larger limit earlier) are deleted on the way.
    func list(_ key: Key, current: Int64?) async throws -> [EntryInfo] {
        let archived = try await self.archivedVersions(of: key).filter { current == nil || $0 < current! }
        let kept = archived.suffix(self.limit)
        let surplus = archived.dropLast(self.limit)
        if !surplus.isEmpty {
            let names = surplus.map { BucketLayout.versionObject(for: key, version: $0) }
            for start in stride(from: 0, to: names.count, by: DeleteManyResult.maximumKeys) {
                let chunk = Array(names[start..<min(start + DeleteManyResult.maximumKeys, names.count)])
                _ = try await self.perform(key) { try await self.objects.deleteMany(chunk) }
            }
        }
        var infos: [EntryInfo] = []
        for version in kept.reversed() {
            // Listings carry no metadata; the expiry of each kept version is in its attributes.
            let name = BucketLayout.versionObject(for: key, version: version)
            let info: ObjectInfo? = try await self.perform(key) {
                do {
                    return try await self.objects.head(name, ifNoneMatch: nil)
                } catch let error as ObjectStoreError where error.code == .notFound {
                    return nil
                }
            }
            if let info { infos.append(EntryInfo(key: key, object: info)) }
        }
        return infos
    }

    /// The archived version numbers of `key` itself, oldest first.
    ///
    /// Only `key`'s own version names are read: the listing starts at
    /// ``BucketLayout/versionNamesPrefix(for:)`` and the delimiter `/` rolls each child key
    /// (`<key>/...`, whose versions share the prefix) up into one common prefix, however many
    /// versions it has. Every page is read; none is silently dropped.
    private func archivedVersions(of key: Key) async throws -> [Int64] {
        var versions: [Int64] = []
        var token: String?
        for _ in 0..<Self.maximumListingPages {
            let request = ListRequest(prefix: BucketLayout.versionNamesPrefix(for: key), continuationToken: token, delimiter: "/")
            let page = try await self.perform(key) { try await self.objects.list(request) }
            versions += page.objects.compactMap { BucketLayout.version(ofVersionObject: $0.name, key: key) }
            guard let next = page.nextContinuationToken else { return versions.sorted() }
            token = next
        }
        throw KVError(
            .backendFailure,
            "the history of key '\(key)' did not fit in \(Self.maximumListingPages) listing pages (child keys roll up there); "
                + "refusing to act on a part of it"
        )
    }

    /// Runs a backend operation on `key`'s history, translating its errors into ``KVError``.
    private func perform<Result>(_ key: Key, _ operation: () async throws -> Result) async throws -> Result {
        do {
            return try await operation()
        } catch let error as KVError {
            throw error
        } catch {
            throw KVError.from(error, key: key)
        }
    }
}
