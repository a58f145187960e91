public import Foundation
import LocalStores
public import ObjectStore
public import S3Protocol
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
    public enum Storage: Sendable, Equatable, CustomStringConvertible {
        case memory
        case directory(String)

        public var description: String {
            switch self {
            case .memory: "memory (nothing survives a restart)"
            case .directory(let path): "local (\(path))"
            }
        }
    }

    struct Bucket: Sendable {
        let store: any ObjectStore
        /// Multipart uploads in progress and their parts, apart from the bucket's objects.
        let uploads: any ObjectStore
        let created: Date
    }

    /// The buckets, and what a deletion must wait for.
    struct State {
        var buckets: [String: Bucket]
        /// Object writes in progress, by bucket.
        var writers: [String: Int] = [:]
        /// Buckets being deleted: new writes are refused until the deletion ends either way.
        var closing: Set<String> = []
    }

    public let storage: Storage
    private let state: Mutex<State>
    private let now: @Sendable () -> Date
    /// How long a deletion waits for writes in progress before it gives up.
    let drainTimeout: Duration

    /// Opens the registry, and on disk every bucket already there.
    public init(storage: Storage, now: @escaping @Sendable () -> Date = Date.init, drainTimeout: Duration = .seconds(30)) throws {
        self.storage = storage
        self.now = now
        self.drainTimeout = drainTimeout
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
        self.state = Mutex(State(buckets: found))
    }

    /// Every bucket, by name.
    public func list() -> [(name: String, created: Date)] {
        self.state.withLock { state in state.buckets.map { ($0.key, $0.value.created) } }
            .sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    /// The store of bucket `name`.
    public func store(_ name: String) throws(S3Error) -> any ObjectStore {
        guard let bucket = self.state.withLock({ $0.buckets[name] }) else { throw S3ServerErrors.noSuchBucket(name) }
        return bucket.store
    }

    /// The store of bucket `name`'s multipart uploads.
    public func uploads(_ name: String) throws(S3Error) -> any ObjectStore {
        guard let bucket = self.state.withLock({ $0.buckets[name] }) else { throw S3ServerErrors.noSuchBucket(name) }
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
        try self.state.withLock { (state: inout State) throws(S3Error) in
            guard state.buckets[name] == nil else {
                throw S3Error(
                    code: "BucketAlreadyOwnedByYou",
                    message: "Your previous request to create the named bucket succeeded and you already own it.", status: 409
                )
            }
            switch self.storage {
            case .memory:
                state.buckets[name] = Bucket(store: MemoryObjectStore(), uploads: MemoryObjectStore(), created: created)
            case .directory(let root):
                let directory = Self.bucketsDirectory(root)
                let staging = directory + "/.creating-" + UUID().uuidString
                do {
                    try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
                    try String(created.timeIntervalSince1970).write(toFile: staging + "/created", atomically: true, encoding: .utf8)
                    try SQLiteObjectStore(directory: staging).close()
                    try FileManager.default.moveItem(atPath: staging, toPath: directory + "/" + name)
                    state.buckets[name] = try Self.open(directory + "/" + name, created: created)
                } catch {
                    try? FileManager.default.removeItem(atPath: staging)
                    throw S3Error(code: "InternalError", message: "the bucket could not be created: \(error)", status: 500)
                }
            }
        }
    }

    /// Runs `body`, a write to an object of bucket `name`, as one the bucket's deletion waits
    /// for: a deletion never removes a bucket while a write into it is still going, so no write
    /// is acknowledged into a bucket that is then deleted.
    ///
    /// - Throws: `NoSuchBucket`, or `OperationAborted` (409, retry) while the bucket is being
    ///   deleted.
    public func whileWriting<T>(_ name: String, _ body: () async throws -> T) async throws -> T {
        try self.state.withLock { (state: inout State) throws(S3Error) in
            guard state.buckets[name] != nil else { throw S3ServerErrors.noSuchBucket(name) }
            guard !state.closing.contains(name) else { throw Self.operationAborted }
            state.writers[name, default: 0] += 1
        }
        defer {
            self.state.withLock { state in
                state.writers[name, default: 1] -= 1
                if state.writers[name] == 0 { state.writers[name] = nil }
            }
        }
        return try await body()
    }

    static let operationAborted = S3Error(
        code: "OperationAborted", message: "A conflicting conditional operation is currently in progress against this resource. Try again.",
        status: 409
    )

    /// Deletes bucket `name`, which must be empty.
    ///
    /// New writes are refused while it runs; the writes already in progress are waited for (at
    /// most ``drainTimeout``), then the bucket is checked for objects once more and removed.
    public func delete(_ name: String) async throws(S3Error) {
        let store = try self.store(name)
        try await Self.checkEmpty(store, name: name)
        try self.state.withLock { (state: inout State) throws(S3Error) in
            guard state.buckets[name] != nil else { throw S3ServerErrors.noSuchBucket(name) }
            guard !state.closing.contains(name) else { throw Self.operationAborted }
            state.closing.insert(name)
        }
        let reopen = { _ = self.state.withLock { $0.closing.remove(name) } }
        let deadline = ContinuousClock.now + self.drainTimeout
        while self.state.withLock({ $0.writers[name] ?? 0 }) > 0 {
            guard ContinuousClock.now < deadline else {
                reopen()
                throw Self.operationAborted
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        do {
            try await Self.checkEmpty(store, name: name)
        } catch {
            reopen()
            throw error
        }
        let removed = self.state.withLock { state in
            state.closing.remove(name)
            return state.buckets.removeValue(forKey: name)
        }
        guard let removed else { throw S3ServerErrors.noSuchBucket(name) }
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
