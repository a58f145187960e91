import Foundation
import ObjectStore

/// What to list: keys in key order (UTF-8 byte order), optionally by prefix and range, one page
/// at a time.
public struct KeyListQuery: Sendable, Equatable {
    public static let defaultLimit = 100
    public static let maximumLimit = ListRequest.maximumPageSize

    /// Only keys starting with this.
    public var prefix: String
    /// Only keys at or after this one.
    public var start: String?
    /// Only keys before this one.
    public var end: String?
    /// Rolls keys that contain it after the prefix up into one common prefix each, as S3 does.
    public var delimiter: String?
    /// Items and common prefixes per page, 1...``maximumLimit``.
    public var limit: Int
    /// Where the previous page stopped: its ``KeyListPage/continuation``.
    public var continuation: String?

    public init(
        prefix: String = "", start: String? = nil, end: String? = nil, delimiter: String? = nil,
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

/// One page of a listing.
public struct KeyListPage: Sendable, Equatable {
    /// Live values, in key order; expired values are never listed.
    public var entries: [EntryInfo]
    /// With a delimiter: the common prefixes on this page, in order.
    public var commonPrefixes: [String]
    /// Present when more may follow: pass it back as ``KeyListQuery/continuation``. A page may
    /// hold fewer than `limit` items (or none) and still have a continuation.
    public var continuation: String?
}

extension KeyValueStore {
    /// How many attribute reads a listing runs at once.
    static let listingConcurrency = 16

    /// One page of keys, straight from the backend's ordered listing (ListObjectsV2).
    ///
    /// Paging follows the backend's continuation tokens, which carry the position in key order:
    /// a walk never returns a key twice and never misses one that existed for the whole walk,
    /// whatever is written meanwhile. A listing holds no per-item metadata, so each item's version
    /// and expiry come from the cache when it knows that ETag, otherwise from a HEAD (at most
    /// ``listingConcurrency`` at a time); that is also how expired values are left out.
    public func list(_ query: KeyListQuery) async throws -> KeyListPage {
        let valuesPrefix = BucketLayout.valuesPrefix
        var request = ListRequest(
            prefix: valuesPrefix + query.prefix,
            continuationToken: query.continuation,
            maxKeys: min(max(query.limit, 1), KeyListQuery.maximumLimit),
            delimiter: query.delimiter
        )
        var startGroup: String?
        if query.continuation == nil, let start = query.start, Self.precedes(query.prefix, start) {
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
            let name = String(summary.key.dropFirst(valuesPrefix.count))
            if let start = query.start, Self.precedes(name, start) { continue }
            if let end = query.end, !Self.precedes(name, end) {
                reachedEnd = true
                break
            }
            // Objects under kv/ that are not valid keys were not written by s3kv; skip them.
            guard let key = try? Key(name) else { continue }
            candidates.append((key, summary))
        }
        var prefixes: [String] = []
        for commonPrefix in page.commonPrefixes {
            let name = String(commonPrefix.dropFirst(valuesPrefix.count))
            if let end = query.end, !Self.precedes(name, end) {
                reachedEnd = true
                break
            }
            // A prefix before `start` still holds keys after it when `start` is inside it.
            if let start = query.start, Self.precedes(name, start), !start.hasPrefix(name) { continue }
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
        let now = self.now()
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
    /// including the first `delimiter`; nil without a delimiter or when `key` has none.
    static func group(containing key: String, prefix: String, delimiter: String?) -> String? {
        guard let delimiter, key.hasPrefix(prefix), let end = key.dropFirst(prefix.count).range(of: delimiter)?.upperBound else {
            return nil
        }
        return String(key[..<end])
    }

    /// Whether `lhs` sorts before `rhs` in UTF-8 byte order, the order listings use.
    static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }

    /// A string just before `key` in UTF-8 byte order: its last character lowered by one,
    /// followed by the highest character. Keys between the bound and `key` are filtered out.
    static func bound(before key: String) -> String {
        var scalars = Array(key.unicodeScalars)
        guard let last = scalars.popLast() else { return "" }
        // The character before `last`, skipping the surrogate range; none before U+0000.
        var value = last.value
        repeat {
            guard value > 0 else { return String(String.UnicodeScalarView(scalars)) }
            value -= 1
        } while Unicode.Scalar(value) == nil
        let lowered = Unicode.Scalar(value)!
        scalars.append(lowered)
        scalars.append(Unicode.Scalar(0x10FFFF)!)
        return String(String.UnicodeScalarView(scalars))
    }
}
