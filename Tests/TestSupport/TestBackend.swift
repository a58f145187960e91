import Foundation
import LocalStores
import ObjectStore
import S3
import Testing
import S3Protocol

/// The S3-compatible server of the integration tests: under `scripts/test` a moto_server on a
/// loopback port (`S3KV_TEST_S3_ENDPOINT`), which the test command also marks as required
/// (`S3KV_TEST_REQUIRE_S3=1`) so these tests run, and fail without a server, rather than skip.
/// moto takes any credentials; for a server that checks them (MinIO under compose) they come
/// from `S3KV_TEST_S3_ACCESS_KEY` and `S3KV_TEST_S3_SECRET_KEY`.
public enum S3TestServer {
    private static let environment = ProcessInfo.processInfo.environment
    public static let endpoint = environment["S3KV_TEST_S3_ENDPOINT"]
    public static let isRequired = environment["S3KV_TEST_REQUIRE_S3"] == "1"
    public static var isEnabled: Bool { endpoint != nil || isRequired }
    public static let credentials = AWSCredentials(
        accessKeyID: environment["S3KV_TEST_S3_ACCESS_KEY"] ?? "s3kv-test",
        secretAccessKey: environment["S3KV_TEST_S3_SECRET_KEY"] ?? "s3kv-test-secret"
    )

    /// A client of `bucket` on the test server, which is created when missing.
    public static func store(
        bucket: String, prefix: String = "", endpoint: String? = nil, maxResponseBytes: Int? = nil, maximumCopyBytes: Int? = nil
    ) async throws -> S3ObjectStore {
        let endpoint = try #require(endpoint ?? Self.endpoint, "S3KV_TEST_S3_ENDPOINT is not set; run the tests with scripts/test")
        var configuration = try S3Configuration(endpoint: endpoint, bucket: bucket, credentials: credentials)
        if let maxResponseBytes { configuration.maxResponseBytes = maxResponseBytes }
        if let maximumCopyBytes { configuration.maximumCopyBytes = maximumCopyBytes }
        // S3's smallest parts, so tests upload in several parts without moving much data.
        configuration.multipartThreshold = 5 << 20
        configuration.partSize = 5 << 20
        // moto, shared by every suite running at once, can go quiet for seconds under load.
        configuration.readTimeout = .seconds(20)
        let store = S3ObjectStore(client: S3Client(configuration: configuration), prefix: prefix)
        do {
            try await store.headBucket()
        } catch {
            try? await store.createBucket()
        }
        return store
    }
}

/// The backends every storage-level test runs on. S3 is moto under `scripts/test`.
public enum TestBackend: String, CustomStringConvertible, Sendable {
    case memory, sqlite, s3

    public static var all: [TestBackend] { S3TestServer.isEnabled ? [.memory, .sqlite, .s3] : [.memory, .sqlite] }
    /// The embedded store and S3: the backends that outlive a process.
    public static var durable: [TestBackend] { S3TestServer.isEnabled ? [.sqlite, .s3] : [.sqlite] }

    public var description: String { self.rawValue }

    /// Runs `body` with a fresh, empty object store of this kind.
    public func withObjects(_ body: (any ObjectStore) async throws -> Void) async throws {
        switch self {
        case .memory:
            try await body(MemoryObjectStore())
        case .sqlite:
            try await withTemporaryDirectory { directory in
                let store = try SQLiteObjectStore(directory: directory)
                defer { try? store.close() }
                try await body(store)
            }
        case .s3:
            // Each test gets its own prefix in a shared bucket, so tests never see each other.
            try await S3TestServer.store(bucket: "s3kv-kvstore", prefix: "t-\(UUID().uuidString)/").use { try await body($0) }
        }
    }
}

extension S3ObjectStore {
    /// Runs `body` with this store, then shuts its client down, whether `body` threw or not.
    public func use(_ body: (S3ObjectStore) async throws -> Void) async throws {
        do {
            try await body(self)
        } catch {
            try? await self.client.shutdown()
            throw error
        }
        try await self.client.shutdown()
    }
}
