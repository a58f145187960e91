import Foundation
import Hummingbird
import Logging
import NIOCore
import ObjectStore
import S3
import S3Protocol
import S3Server
import ServerSupport
import Synchronization
import Testing

/// s3kv's own S3 server, started in this process on a free loopback port, with our S3 client
/// pointed at it: the suites that run against moto run against it too.
public enum OwnS3Server {
    public static let credentials = AWSCredentials(accessKeyID: "own-s3-test", secretAccessKey: "own-s3-test-secret")

    /// A running server: where it listens, and clients of it.
    public struct Running: Sendable {
        public let endpoint: String
        public let port: Int

        /// A client of `bucket` signing with `credentials` and the clock `now`. Parts are S3's
        /// smallest, so bodies over 5 MiB go up in several.
        public func client(
            bucket: String, credentials: AWSCredentials = OwnS3Server.credentials, now: @escaping @Sendable () -> Date = Date.init
        ) throws -> S3Client {
            var configuration = try S3Configuration(endpoint: self.endpoint, bucket: bucket, credentials: credentials)
            configuration.multipartThreshold = 5 << 20
            configuration.partSize = 5 << 20
            configuration.maxAttempts = 1
            // As for moto (TestBackend): the servers of every suite running at once share this
            // process's threads, and one can go quiet for seconds under load.
            configuration.readTimeout = .seconds(20)
            configuration.requestTimeout = .seconds(30)
            return S3Client(configuration: configuration, now: now)
        }
    }

    /// Runs `body` with a fresh server, its buckets on disk under `directory` or in memory.
    /// - Parameter domain: the domain of virtual-hosted addressing, if any.
    public static func withServer(
        directory: String? = nil, domain: String? = nil, tls: TLSCertificates? = nil, _ body: (Running) async throws -> Void) async throws {
        let buckets = try BucketRegistry(storage: directory.map { .directory($0) } ?? .memory)
        let port = Mutex<Int?>(nil)
        let app = S3ServerApplication.make(
            buckets: buckets,
            configuration: S3ServerConfiguration(port: 0, credentials: [credentials], domain: domain),
            logger: Logger(label: "own-s3-test"),
            tls: tls,
            onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } }
        )
        let server = Task { try await app.runService(gracefulShutdownSignals: []) }
        defer { server.cancel() }
        var bound: Int?
        for _ in 0..<200 where bound == nil {
            bound = port.withLock { $0 }
            if bound == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        let listening = try #require(bound, "the S3 server did not start")
        try await body(Running(endpoint: "\(tls == nil ? "http" : "https")://127.0.0.1:\(listening)", port: listening))
    }

    /// Runs `body` with a client of a fresh bucket on a fresh server, on disk under `directory`
    /// or in memory.
    public static func withStore(directory: String? = nil, _ body: (S3ObjectStore) async throws -> Void) async throws {
        try await withServer(directory: directory) { server in
            let store = S3ObjectStore(client: try server.client(bucket: "conformance"))
            try await store.createBucket()
            try await store.use(body)
        }
    }
}
