import Foundation
import ObjectStore
import S3Protocol
import Synchronization

/// The S3 server's buckets, each an ``ObjectStore`` of its own: in memory, or one embedded
/// store (SQLite plus body files) per bucket directory under `<data>/buckets/`.
///
/// One store per bucket keeps a bucket's objects, listing index and conditions exactly those of
/// the storage contract every backend passes, and makes deleting a bucket a directory removal.
/// A bucket directory appears by an atomic rename once its store exists, so a crash mid-create
/// leaves either no bucket or a whole one.
public final class BucketRegistry: Sendable {
    /// Where buckets live.
    public enum Storage: Sendable, Equatable {
        case memory
        case directory(String)
    }

    struct Bucket: Sendable {
        let store: any ObjectStore
        /// Multipart uploads in progress and their parts, apart from the bucket's objects.
        let uploads: any ObjectStore
        let created: Date
    }

    public let storage: Storage
    private let buckets: Mutex<[String: Bucket]>
    private let now: @Sendable () -> Date

    /// Opens the registry, and on disk every bucket already there.
    public init(storage: Storage, now: @escaping @Sendable () -> Date = Date.init) throws {
        self.storage = storage
        self.now = now
        var found: [String: Bucket] = [:]
        if case .directory(let root) = storage {
            let directory = Self.bucketsDirectory(root)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
                let path = directory + "/" + name
                if name.hasPrefix(".") {
                    // A create or delete that did not finish.
                    try? FileManager.default.removeItem(atPath: path)
                    continue
                }
                found[name] = try Self.open(path, created: Self.readCreated(path))
            }
        }
        self.buckets = Mutex(found)
    }

    /// Every bucket, by name.
    public func list() -> [(name: String, created: Date)] {
        self.buckets.withLock { buckets in buckets.map { ($0.key, $0.value.created) } }
            .sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    /// The store of bucket `name`.
    public func store(_ name: String) throws(S3Error) -> any ObjectStore {
        guard let bucket = self.buckets.withLock({ $0[name] }) else { throw S3ServerErrors.noSuchBucket(name) }
        return bucket.store
    }

    /// The store of bucket `name`'s multipart uploads.
    public func uploads(_ name: String) throws(S3Error) -> any ObjectStore {
        guard let bucket = self.buckets.withLock({ $0[name] }) else { throw S3ServerErrors.noSuchBucket(name) }
        return bucket.uploads
    }

    private static func open(_ path: String, created: Date) throws -> Bucket {
        try FileManager.default.createDirectory(atPath: path + "/uploads", withIntermediateDirectories: true)
        return Bucket(store: try SQLiteObjectStore(directory: path), uploads: try SQLiteObjectStore(directory: path + "/uploads"), created: created)
    }

    /// Creates bucket `name`.
    public func create(_ name: String) throws(S3Error) {
        try BucketName.check(name)
        let created = self.now()
        try self.buckets.withLock { (buckets: inout [String: Bucket]) throws(S3Error) in
            guard buckets[name] == nil else {
                throw S3Error(
                    code: "BucketAlreadyOwnedByYou",
                    message: "Your previous request to create the named bucket succeeded and you already own it.", status: 409
                )
            }
            switch self.storage {
            case .memory:
                buckets[name] = Bucket(store: MemoryObjectStore(), uploads: MemoryObjectStore(), created: created)
            case .directory(let root):
                let directory = Self.bucketsDirectory(root)
                let staging = directory + "/.creating-" + UUID().uuidString
                do {
                    try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
                    try String(created.timeIntervalSince1970).write(toFile: staging + "/created", atomically: true, encoding: .utf8)
                    try SQLiteObjectStore(directory: staging).close()
                    try FileManager.default.moveItem(atPath: staging, toPath: directory + "/" + name)
                    buckets[name] = try Self.open(directory + "/" + name, created: created)
                } catch {
                    try? FileManager.default.removeItem(atPath: staging)
                    throw S3Error(code: "InternalError", message: "the bucket could not be created: \(error)", status: 500)
                }
            }
        }
    }

    /// Deletes bucket `name`, which must be empty.
    public func delete(_ name: String) async throws(S3Error) {
        let store = try self.store(name)
        try await Self.checkEmpty(store, name: name)
        guard let removed = self.buckets.withLock({ $0.removeValue(forKey: name) }) else { throw S3ServerErrors.noSuchBucket(name) }
        // A write that raced the check lands before the removal; look once more, and keep the
        // bucket if one did.
        do {
            try await Self.checkEmpty(store, name: name)
        } catch {
            self.buckets.withLock { $0[name] = removed }
            throw error
        }
        if case .directory(let root) = self.storage, let sqlite = removed.store as? SQLiteObjectStore {
            try? sqlite.close()
            try? (removed.uploads as? SQLiteObjectStore)?.close()
            let directory = Self.bucketsDirectory(root)
            let doomed = directory + "/.deleting-" + UUID().uuidString
            try? FileManager.default.moveItem(atPath: directory + "/" + name, toPath: doomed)
            try? FileManager.default.removeItem(atPath: doomed)
        }
    }

    private static func checkEmpty(_ store: any ObjectStore, name: String) async throws(S3Error) {
        let page: ListPage
        do {
            page = try await store.list(ListRequest(maxKeys: 1))
        } catch {
            throw S3ServerErrors.from(error)
        }
        guard page.objects.isEmpty else {
            throw S3Error(code: "BucketNotEmpty", message: "The bucket you tried to delete is not empty", status: 409)
        }
    }

    /// Why the storage cannot take writes now (its directory gone or read-only), or nil.
    public func storageProblem() -> String? {
        guard case .directory(let root) = self.storage else { return nil }
        let directory = Self.bucketsDirectory(root)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            return "the data directory is missing"
        }
        guard FileManager.default.isWritableFile(atPath: directory) else { return "the data directory is not writable" }
        return nil
    }

    private static func bucketsDirectory(_ root: String) -> String { root + "/buckets" }

    private static func readCreated(_ path: String) -> Date {
        if let text = try? String(contentsOfFile: path + "/created", encoding: .utf8), let seconds = Double(text) {
            return Date(timeIntervalSince1970: seconds)
        }
        return Date(timeIntervalSince1970: 0)
    }
}

/// S3's bucket naming rules (general purpose buckets).
enum BucketName {
    static func check(_ name: String) throws(S3Error) {
        let bytes = Array(name.utf8)
        func invalid(_ reason: String) -> S3Error {
            S3Error(code: "InvalidBucketName", message: "The specified bucket is not valid: \(reason)", status: 400)
        }
        guard (3...63).contains(bytes.count) else { throw invalid("a name is 3 to 63 characters long") }
        let allowed = bytes.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D }
        guard allowed else { throw invalid("only lower-case letters, digits, '.' and '-' are allowed") }
        let alphanumeric: (UInt8) -> Bool = { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
        guard alphanumeric(bytes.first!), alphanumeric(bytes.last!) else { throw invalid("a name begins and ends with a letter or digit") }
        guard !name.contains("..") else { throw invalid("a name has no two adjacent periods") }
        let parts = name.split(separator: ".")
        if parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) { throw invalid("a name is not an IP address") }
        if name.hasPrefix("xn--") || name.hasSuffix("-s3alias") { throw invalid("the prefix 'xn--' and suffix '-s3alias' are reserved") }
    }
}
