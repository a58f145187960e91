import Foundation
import ObjectStore

extension KeyValueStore {
    /// How many attribute reads a listing runs at once.
    static let listingConcurrency = 16

    /// One page of keys, straight from the backend's ordered listing (ListObjectsV2).
    ///
    /// Paging follows the backend's continuation tokens, which carry the position in key order:
    /// a walk never returns a key twice and never misses one that existed for the whole walk,
    /// whatever is written meanwhile. A listing holds no per-item metadata, so each item's version
    /// and expiry come from the cache when it knows that ETag, otherwise from a HEAD (at most
    /// ``listingConcurrency`` at a time); that is also how expired values are left out. Every
    /// comparison, prefix and roll-up works on bytes.
    public func list(_ query: KeyListQuery) async throws -> KeyListPage {
        let valuesPrefix = BucketLayout.valuesPrefix
        var request = ListRequest(
            prefix: valuesPrefix + query.prefix,
            continuationToken: query.continuation,
            maxKeys: min(max(query.limit, 1), KeyListQuery.maximumLimit),
            delimiter: query.delimiter
        )
        var startGroup: ObjectName?
        if query.continuation == nil, let start = query.start, query.prefix < start {
            // StartAfter is exclusive; begin just before `start` and drop what precedes it.
            request.startAfter = valuesPrefix + Self.bound(before: start)
            startGroup = Self.group(containing: start, prefix: query.prefix, delimiter: query.delimiter)
            // Room for that group, which is listed first when it holds keys from `start` on.
            if startGroup != nil { request.maxKeys = max(request.maxKeys - 1, 1) }
        }
        var page: ListPage
        do {
            page = try await self.objects.list(request)
            // Backends differ on whether a group that StartAfter falls inside is still rolled up
            // (moto leaves it out); ask for it directly, so every backend answers alike.
            if let startGroup, !page.commonPrefixes.contains(valuesPrefix + startGroup) {
                let inside = ListRequest(prefix: valuesPrefix + startGroup, startAfter: request.startAfter, maxKeys: 1)
                if try await !self.objects.list(inside).objects.isEmpty {
                    page.commonPrefixes.insert(valuesPrefix + startGroup, at: 0)
                }
            }
        } catch {
            throw KVError.from(error)
        }

        var reachedEnd = false
        var candidates: [(key: Key, summary: ObjectSummary)] = []
        for summary in page.objects {
            guard let name = summary.name.removingPrefix(valuesPrefix) else { continue }
            if let start = query.start, name < start { continue }
            if let end = query.end, !(name < end) {
                reachedEnd = true
                break
            }
            // Objects under kv/ that are not valid keys were not written by s3kv; skip them.
            guard let key = BucketLayout.key(ofValueObject: summary.name) else { continue }
            candidates.append((key, summary))
        }
        var prefixes: [ObjectName] = []
        for commonPrefix in page.commonPrefixes {
            guard let name = commonPrefix.removingPrefix(valuesPrefix) else { continue }
            if let end = query.end, !(name < end) {
                reachedEnd = true
                break
            }
            // A prefix before `start` still holds keys after it when `start` is inside it.
            if let start = query.start, name < start, !start.hasPrefix(name) { continue }
            prefixes.append(name)
        }
        return KeyListPage(
            entries: try await self.currentInfo(of: candidates),
            commonPrefixes: prefixes,
            continuation: reachedEnd ? nil : page.nextContinuationToken
        )
    }

    /// The attributes of each listed object that is live now, in the order given.
    private func currentInfo(of candidates: [(key: Key, summary: ObjectSummary)]) async throws -> [EntryInfo] {
        let now = self.clock.wallTime()
        var results = [EntryInfo?](repeating: nil, count: candidates.count)
        var pending: [Int] = []
        for (index, candidate) in candidates.enumerated() {
            if let cached = self.cache.entry(for: candidate.key, now: now), cached.info.etag == candidate.summary.etag {
                results[index] = cached.info
            } else {
                pending.append(index)
            }
        }
        let keys = pending.map { candidates[$0].key }
        let reads = await Self.forEach(keys, concurrency: Self.listingConcurrency) { key -> Result<EntryInfo?, any Error> in
            do {
                guard case .live(let info, _) = try await self.readCurrent(key, withValue: false, now: now) else { return .success(nil) }
                return .success(info)
            } catch {
                return .failure(error)
            }
        }
        for (index, read) in zip(pending, reads) {
            results[index] = try read.get()
        }
        return results.compactMap { $0 }
    }

    /// The common prefix `key` would be rolled up into: `prefix` plus the rest of `key` up to and
    /// including the first `delimiter`, by bytes; nil without a delimiter or when `key` has none.
    static func group(containing key: ObjectName, prefix: ObjectName, delimiter: ObjectName?) -> ObjectName? {
        guard let delimiter, !delimiter.isEmpty, let rest = key.removingPrefix(prefix) else { return nil }
        let bytes = Array(rest.utf8)
        let needle = Array(delimiter.utf8)
        guard bytes.count >= needle.count else { return nil }
        for index in 0...(bytes.count - needle.count) where bytes[index..<index + needle.count].elementsEqual(needle) {
            // The delimiter is whole UTF-8, so the group ends on a scalar boundary.
            return prefix + ObjectName(String(decoding: bytes[..<(index + needle.count)], as: UTF8.self))
        }
        return nil
    }

    /// A name just before `key` in byte order: its last scalar lowered by one, followed by the
    /// highest scalar. UTF-8 preserves scalar order, so names between the bound and `key` are
    /// only ones that sort before `key`, which the listing then filters out.
    static func bound(before key: ObjectName) -> ObjectName {
        var scalars = Array(key.string.unicodeScalars)
        guard let last = scalars.popLast() else { return "" }
        // The scalar before `last`, skipping the surrogate range; none before U+0000.
        var value = last.value
        repeat {
            guard value > 0 else { return ObjectName(String(String.UnicodeScalarView(scalars))) }
            value -= 1
        } while Unicode.Scalar(value) == nil
        scalars.append(Unicode.Scalar(value)!)
        scalars.append(Unicode.Scalar(0x10FFFF)!)
        return ObjectName(String(String.UnicodeScalarView(scalars)))
    }
}
