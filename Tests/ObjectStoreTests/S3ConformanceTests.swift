import Foundation
import ObjectStore
import S3
import Testing

/// Where the S3 integration tests find their server: `scripts/test` starts moto_server on a free
/// loopback port and sets `S3KV_TEST_S3_ENDPOINT`. It also sets `S3KV_TEST_REQUIRE_S3=1`, so under
/// the test command these tests run (and fail without a server) rather than skip. moto takes any
/// credentials; for a server that checks them (MinIO under `docker compose run test`) they come
/// from `S3KV_TEST_S3_ACCESS_KEY` and `S3KV_TEST_S3_SECRET_KEY`.
enum S3TestEnvironment {
    private static let environment = ProcessInfo.processInfo.environment
    static let endpoint = environment["S3KV_TEST_S3_ENDPOINT"]
    static let required = environment["S3KV_TEST_REQUIRE_S3"] == "1"
    static let credentials = AWSCredentials(
        accessKeyID: environment["S3KV_TEST_S3_ACCESS_KEY"] ?? "s3kv-test",
        secretAccessKey: environment["S3KV_TEST_S3_SECRET_KEY"] ?? "s3kv-test-secret"
    )
    static var enabled: Bool { endpoint != nil || required }
    static let bucket = "s3kv-conformance"

    /// A store on the test bucket (created when missing).
    static func store() async throws -> S3ObjectStore {
        let endpoint = try #require(endpoint, "S3KV_TEST_S3_ENDPOINT is not set; run the tests with scripts/test")
        let configuration = try S3Configuration(
            endpoint: endpoint, bucket: bucket,
            credentials: credentials
        )
        let store = S3ObjectStore(client: S3Client(configuration: configuration))
        do {
            try await store.headBucket()
        } catch {
            try? await store.createBucket()
            try await store.headBucket()
        }
        return store
    }
}

/// The conformance cases against a real S3-compatible server.
@Suite(.enabled(if: S3TestEnvironment.enabled, "set S3KV_TEST_S3_ENDPOINT or run scripts/test to include S3"))
struct S3ConformanceTests {
    @Test("S3 (moto)", arguments: Conformance.cases)
    func s3(_ conformanceCase: ConformanceCase) async throws {
        let store = try await S3TestEnvironment.store()
        // moto ignores x-amz-copy-source-if-match (S3-FACTS), so that check is left to AWS.
        let context = ConformanceContext(store: store, prefix: "t-\(UUID().uuidString)/", honoursCopySourceIfMatch: false)
        do {
            try await conformanceCase.run(context)
        } catch {
            try? await store.client.shutdown()
            throw error
        }
        try await store.client.shutdown()
    }
}
