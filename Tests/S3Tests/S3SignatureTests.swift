import Foundation
import NIOCore
import ObjectStore
import S3
import Testing
import TestSupport
import S3Protocol

/// A server that checks SigV4 signatures. Under `scripts/test` a moto_server with an IAM access key
/// and a bucket created in it, then authentication switched on (scripts/moto-auth-setup.py);
/// under `docker compose run test`, MinIO.
enum SigningServer {
    private static let environment = ProcessInfo.processInfo.environment
    static let endpoint = environment["S3KV_TEST_AUTH_S3_ENDPOINT"]
    static let bucket = environment["S3KV_TEST_AUTH_S3_BUCKET"] ?? "s3kv-auth"
    static let accessKey = environment["S3KV_TEST_AUTH_S3_ACCESS_KEY"] ?? ""
    static let secretKey = environment["S3KV_TEST_AUTH_S3_SECRET_KEY"] ?? ""
    static var enabled: Bool { endpoint != nil || environment["S3KV_TEST_REQUIRE_S3"] == "1" }

    static func store(accessKey: String = accessKey, secretKey: String = secretKey) throws -> S3ObjectStore {
        let endpoint = try #require(endpoint, "S3KV_TEST_AUTH_S3_ENDPOINT is not set; run the tests with scripts/test")
        let configuration = try S3Configuration(
            endpoint: endpoint, bucket: bucket,
            credentials: AWSCredentials(accessKeyID: accessKey, secretAccessKey: secretKey)
        )
        return S3ObjectStore(client: S3Client(configuration: configuration))
    }

    /// A store with the right credentials, on the bucket (created when missing).
    static func authorisedStore() async throws -> S3ObjectStore {
        let store = try store()
        do {
            try await store.headBucket()
        } catch {
            guard error.status == 404 else { throw error }
            try await store.createBucket()
        }
        return store
    }
}

/// Our signatures against a server that verifies them. moto wrongly rejects correct signatures
/// for keys with `+ % * = & , : ( )` or non-ASCII, and for a `/` in list parameters
/// (S3-FACTS), so these keys and prefixes are plain; the AWS vectors cover the encoding rules.
@Suite(.enabled(if: SigningServer.enabled, "set S3KV_TEST_AUTH_S3_ENDPOINT or run scripts/test to include S3"))
struct S3SignatureTests {
    @Test func everyOperationIsAcceptedWithTheRightSecret() async throws {
        try await withStore(try await SigningServer.authorisedStore()) { store in
            let base = "sig-\(UUID().uuidString.lowercased())"
            let first = try await store.put(
                "\(base)-a", body: ByteBuffer(string: "alpha"),
                options: PutOptions(contentType: "text/plain", metadata: ["s3kv-ttl": "30"], condition: .ifNoneExists)
            )
            _ = try await store.put(
                "\(base)-a", body: ByteBuffer(string: "alpha2"),
                options: PutOptions(contentType: "text/plain", metadata: ["s3kv-ttl": "30"], condition: .ifMatch(first))
            )
            _ = try await store.put("\(base)-b", body: ByteBuffer(bytes: [0, 1, 2, 255]), options: PutOptions())

            let object = try await store.get("\(base)-a", ifNoneMatch: nil)
            #expect(String(buffer: object.body) == "alpha2")
            #expect(object.info.metadata == ["s3kv-ttl": "30"])
            #expect(try await store.head("\(base)-a", ifNoneMatch: nil).contentType == "text/plain")
            _ = try await store.copy(from: "\(base)-a", to: "\(base)-c", options: CopyOptions())

            let page = try await store.list(ListRequest(prefix: ObjectName(base), maxKeys: 2))
            #expect(page.objects.map(\.name) == ["\(base)-a", "\(base)-b"])
            let rest = try await store.list(ListRequest(prefix: ObjectName(base), continuationToken: page.nextContinuationToken))
            #expect(rest.objects.map(\.name) == ["\(base)-c"])

            try await store.delete("\(base)-c", ifMatch: nil)
            let deleted = try await store.deleteMany(["\(base)-a", "\(base)-b"])
            #expect(Set(deleted.deleted) == ["\(base)-a", "\(base)-b"] && deleted.failed.isEmpty)
            #expect(try await store.list(ListRequest(prefix: ObjectName(base))).objects.isEmpty)
            try await store.headBucket()
        }
    }

    @Test func aWrongSecretIsRejectedWithAClearError() async throws {
        let wrongSecret = "not-the-secret-\(UUID().uuidString)"
        try await withStore(try SigningServer.store(secretKey: wrongSecret)) { store in
            let error = try await #require(throws: ObjectStoreError.self) {
                _ = try await store.put("sig-wrong", body: ByteBuffer(string: "x"), options: PutOptions())
            }
            #expect(error.code == .accessDenied)
            #expect(error.message.hasPrefix("SignatureDoesNotMatch"))
            #expect(!error.description.contains(wrongSecret))

            // HEAD answers carry no body, so the status alone says what went wrong.
            let bucketError = try await #require(throws: S3Error.self) { try await store.headBucket() }
            #expect(bucketError.status == 403)
        }
    }

    @Test func anUnknownAccessKeyIsRejected() async throws {
        try await withStore(try SigningServer.store(accessKey: "AKIAUNKNOWNKEY000000")) { store in
            let error = try await #require(throws: ObjectStoreError.self) {
                _ = try await store.get("sig-unknown", ifNoneMatch: nil)
            }
            #expect(error.code == .accessDenied)
            #expect(error.message.hasPrefix("InvalidAccessKeyId"))
        }
    }

    private func withStore(_ store: S3ObjectStore, _ body: (S3ObjectStore) async throws -> Void) async throws {
        try await store.use(body)
    }
}
