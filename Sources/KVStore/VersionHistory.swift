import NIOCore
import ObjectStore

/// The earlier versions of keys, kept at `versions/<key>/<version>` when history is on.
///
/// Archive before overwrite: version n is copied here, from the bytes read with n's tag, before
/// n+1 is written conditionally on that tag. A crash in between leaves an extra copy, never a
/// gap, and a writer that loses the race retries from a fresh read, so no version is lost and no
/// two writes get the same number. Archived copies keep their expiry and are not served after it.
struct VersionHistory: Sendable {
    let objects: any ObjectStore
    /// Previous versions kept per key; 0 turns history off.
    let limit: Int

    var isEnabled: Bool { self.limit > 0 }

    /// Stores `info`'s version of the key with `value`, the bytes read with `info.etag`. The
    /// same version always has the same bytes, so storing it twice is harmless.
    func archive(_ info: EntryInfo, value: ByteBuffer) async throws {
        let options = PutOptions(contentType: info.contentType, metadata: info.metadata.objectMetadata)
        _ = try await self.objects.put(BucketLayout.versionObject(for: info.key, version: info.version), body: value, options: options)
    }

    /// Drops the version that falls out of the history once `newest` has been archived.
    func prune(_ key: Key, newestArchived newest: Int64) async throws {
        let oldest = newest - Int64(self.limit)
        guard oldest >= 1 else { return }
        try await self.objects.delete(BucketLayout.versionObject(for: key, version: oldest), ifMatch: nil)
    }

    /// The number for a key's first write when it has no current value: one past the newest
    /// archived version, so a key deleted or expired and written again continues its numbering.
    func nextVersionForAbsentKey(_ key: Key) async throws -> Int64 {
        guard self.isEnabled else { return 1 }
        return try await self.archivedVersions(of: key).last.map { $0.version + 1 } ?? 1
    }

    /// One archived version, or nil.
    func version(_ version: Int64, of key: Key) async throws -> Entry? {
        do {
            let object = try await self.objects.get(BucketLayout.versionObject(for: key, version: version), ifNoneMatch: nil)
            return Entry(info: EntryInfo(key: key, object: object.info), value: object.body)
        } catch let error as ObjectStoreError where error.code == .notFound {
            return nil
        }
    }

    /// The archived versions of `key` older than `current`, newest first, at most `limit` of
    /// them; older leftovers (from a larger limit earlier) are deleted on the way.
    func list(_ key: Key, current: Int64?) async throws -> [EntryInfo] {
        let archived = try await self.archivedVersions(of: key).filter { current == nil || $0.version < current! }
        let kept = archived.suffix(self.limit)
        let surplus = archived.dropLast(self.limit)
        if !surplus.isEmpty {
            _ = try await self.objects.deleteMany(surplus.map { BucketLayout.versionObject(for: key, version: $0.version) })
        }
        var infos: [EntryInfo] = []
        for archived in kept.reversed() {
            // Listings carry no metadata; the expiry of each kept version is in its attributes.
            let name = BucketLayout.versionObject(for: key, version: archived.version)
            do {
                infos.append(EntryInfo(key: key, object: try await self.objects.head(name, ifNoneMatch: nil)))
            } catch let error as ObjectStoreError where error.code == .notFound {
                continue
            }
        }
        return infos
    }

    /// Archived version numbers of `key`, oldest first.
    private func archivedVersions(of key: Key) async throws -> [(version: Int64, name: String)] {
        var versions: [(version: Int64, name: String)] = []
        var token: String?
        // A key's history is at most a page or two; the bound only guards against a runaway.
        for _ in 0..<20 {
            let page = try await self.objects.list(ListRequest(prefix: BucketLayout.versionsPrefix(for: key), continuationToken: token))
            for object in page.objects {
                if let version = BucketLayout.version(ofVersionObject: object.key, key: key) { versions.append((version, object.key)) }
            }
            guard let next = page.nextContinuationToken else { break }
            token = next
        }
        return versions
    }
}
