import Foundation
import KVStore
import NIOCore
import ObjectStore
import S3
import Synchronization
import Testing

/// A clock that moves only when told to, so expiry and staleness are exact in tests.
final class ManualClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        self.current = Mutex(start)
    }

    var now: Date { self.current.withLock { $0 } }

    func advance(_ duration: Duration) {
        self.current.withLock { $0 = $0.addingTimeInterval(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18) }
    }

    var function: @Sendable () -> Date { { self.now } }
}

/// The backends every lifecycle test runs on. S3 is moto under `scripts/test`.
enum TestBackend: String, CustomStringConvertible, Sendable {
    case memory, sqlite, s3

    private static let environment = ProcessInfo.processInfo.environment
    static var s3Enabled: Bool { environment["S3KV_TEST_S3_ENDPOINT"] != nil || environment["S3KV_TEST_REQUIRE_S3"] == "1" }
    static var all: [TestBackend] { s3Enabled ? [.memory, .sqlite, .s3] : [.memory, .sqlite] }
    /// The embedded store and S3: the backends the concurrency test names.
    static var durable: [TestBackend] { s3Enabled ? [.sqlite, .s3] : [.sqlite] }

    var description: String { self.rawValue }

    /// Runs `body` with a fresh, empty object store of this kind.
    func withObjects(_ body: (any ObjectStore) async throws -> Void) async throws {
        switch self {
        case .memory:
            try await body(MemoryObjectStore())
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("s3kv-kvstore-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let store = try SQLiteObjectStore(directory: directory)
            defer { try? store.close() }
            try await body(store)
        case .s3:
            let endpoint = try #require(Self.environment["S3KV_TEST_S3_ENDPOINT"], "S3KV_TEST_S3_ENDPOINT is not set; run scripts/test")
            let configuration = try S3Configuration(
                endpoint: endpoint, bucket: "s3kv-kvstore",
                credentials: AWSCredentials(
                    accessKeyID: Self.environment["S3KV_TEST_S3_ACCESS_KEY"] ?? "s3kv-test",
                    secretAccessKey: Self.environment["S3KV_TEST_S3_SECRET_KEY"] ?? "s3kv-test-secret"
                )
            )
            let client = S3Client(configuration: configuration)
            // Each test gets its own prefix in a shared bucket, so tests never see each other.
            let store = S3ObjectStore(client: client, prefix: "t-\(UUID().uuidString)/")
            do {
                do {
                    try await store.headBucket()
                } catch {
                    try? await store.createBucket()
                }
                try await body(store)
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
    }
}

/// An object store that records each operation it forwards (`"put kv/a"`), to count backend
/// requests, and can run a hook just before forwarding one.
final class RecordingObjectStore: ObjectStore {
    let base: any ObjectStore
    private let log = Mutex<[String]>([])
    private let hook = Mutex<(@Sendable (String) async throws -> Void)?>(nil)

    init(_ base: any ObjectStore) {
        self.base = base
    }

    var operations: [String] { self.log.withLock { $0 } }
    func reset() { self.log.withLock { $0.removeAll() } }

    /// Runs `hook` with each operation's description before forwarding it.
    func beforeEach(_ hook: (@Sendable (String) async throws -> Void)?) { self.hook.withLock { $0 = hook } }

    private func record(_ operation: String) async throws {
        self.log.withLock { $0.append(operation) }
        if let hook = self.hook.withLock({ $0 }) { try await hook(operation) }
    }

    func put(_ key: String, body: ByteBuffer, options: PutOptions) async throws -> ETag {
        try await self.record("put \(key)")
        return try await self.base.put(key, body: body, options: options)
    }
    func get(_ key: String, ifNoneMatch: ETagMatch?) async throws -> StoredObject {
        try await self.record("get \(key)")
        return try await self.base.get(key, ifNoneMatch: ifNoneMatch)
    }
    func head(_ key: String, ifNoneMatch: ETagMatch?) async throws -> ObjectInfo {
        try await self.record("head \(key)")
        return try await self.base.head(key, ifNoneMatch: ifNoneMatch)
    }
    func delete(_ key: String, ifMatch: ETag?) async throws {
        try await self.record("delete \(key)")
        try await self.base.delete(key, ifMatch: ifMatch)
    }
    func copy(from source: String, to destination: String, options: CopyOptions) async throws -> ETag {
        try await self.record("copy \(source) \(destination)")
        return try await self.base.copy(from: source, to: destination, options: options)
    }
    func list(_ request: ListRequest) async throws -> ListPage {
        try await self.record("list \(request.prefix)")
        return try await self.base.list(request)
    }
    func deleteMany(_ keys: [String]) async throws -> DeleteManyResult {
        try await self.record("deleteMany \(keys.count)")
        return try await self.base.deleteMany(keys)
    }

    func probe() async throws {
        try await self.record("probe")
        try await self.base.probe()
    }
}

func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

extension Entry {
    var text: String { String(buffer: self.value) }
}
