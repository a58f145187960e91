import Foundation
import Logging
import ObjectStore

/// Reclaims the storage of expired values by walking the expiry index, oldest first.
///
/// Reads never return an expired value, so sweeping is only about storage. For each index
/// entry due at least ``KVStoreConfiguration/sweepSettleTime`` ago it deletes the value if that
/// value is the one that expired then, conditionally on the tag it checked, and then drops the
/// entry. Index entries whose value was rewritten, deleted or never written are dropped as
/// stale. Every step is conditional or idempotent, so any number of instances may sweep the
/// same bucket at once.
public struct ExpirySweeper: Sendable {
    /// Index entries handled per pass at most, so one pass stays bounded in time and memory.
    public static let maximumEntriesPerPass = 10_000

    let store: KeyValueStore

    public init(store: KeyValueStore) {
        self.store = store
    }

    /// What one pass did.
    public struct Report: Sendable, Equatable {
        /// Due index entries looked at.
        public var examined = 0
        /// Expired values deleted.
        public var reclaimed = 0
        /// Index entries dropped whose value had changed, gone or never appeared.
        public var stale = 0
        /// Index entries that could not be handled this pass (the backend failed on them); they
        /// stay in the index and are tried again on the next pass.
        public var failed = 0
        /// Whether due entries were left for the next pass (the per-pass bound was reached).
        public var hasMore = false

        public init() {}
    }

    /// One pass over the index entries that are due.
    ///
    /// A failure on one entry is counted and logged, and the pass goes on with the next, so one
    /// entry the backend keeps refusing cannot stop every later entry from being reclaimed.
    /// Only a failure to list the index ends a pass early (thrown).
    public func sweep() async throws -> Report {
        let settle = Int64(self.store.configuration.sweepSettleTime.seconds * 1000)
        let due = UnixMilliseconds(UnixMilliseconds(self.store.clock.wallTime()).value - settle)
        let end = BucketLayout.expiryBound(after: due)
        var report = Report()
        var token: String?
        while report.examined < Self.maximumEntriesPerPass {
            let page = try await self.store.objects.list(
                ListRequest(prefix: BucketLayout.expiryPrefix, continuationToken: token, maxKeys: 1000)
            )
            for object in page.objects {
                guard object.name < end else { return report }
                guard report.examined < Self.maximumEntriesPerPass else {
                    report.hasMore = true
                    return report
                }
                report.examined += 1
                do {
                    if let (expiresAt, key) = BucketLayout.parseExpiryObject(object.name),
                        try await self.store.reclaim(key, expiredAt: expiresAt)
                    {
                        report.reclaimed += 1
                    } else {
                        report.stale += 1
                    }
                    try await self.store.objects.delete(object.name, ifMatch: nil)
                } catch {
                    report.failed += 1
                    self.store.logger.warning(
                        "could not sweep an expiry index entry; it is tried again on the next pass",
                        metadata: ["entry": "\(object.name)", "error": "\(error)"]
                    )
                }
            }
            guard let next = page.nextContinuationToken else { return report }
            token = next
        }
        report.hasMore = true
        return report
    }
}
