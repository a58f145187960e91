import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import ObjectStore
@testable import S3
import Testing
import S3Protocol

/// How S3's answers and the transport's failures become the contract's errors: what is the
/// client's fault, what is the backend's, what may be retried, and what may have been applied.
@Suite struct S3ErrorMappingTests {
    static let name: ObjectName = "kv/k"

    @Test("400s that are not the request's fault are backend failures, not the client's 400", arguments: [
        ("ExpiredToken", 400, ObjectStoreError.Code.accessDenied), ("AuthorizationHeaderMalformed", 400, .backendFailure),
        ("RequestTimeout", 400, .unavailable), ("InvalidArgument", 400, .invalidArgument), ("KeyTooLongError", 400, .invalidArgument),
        ("MalformedXML", 400, .backendFailure), ("InvalidToken", 400, .accessDenied), ("AccessDenied", 403, .accessDenied),
        ("NoSuchKey", 404, .notFound), ("NoSuchBucket", 404, .backendFailure), ("PreconditionFailed", 412, .preconditionFailed),
        ("SlowDown", 503, .unavailable), ("InternalError", 500, .unavailable),
    ])
    func statusAndCode(_ code: String, _ status: Int, _ expected: ObjectStoreError.Code) {
        #expect(S3ObjectStore.translate(S3Error(code: code, message: "m", status: status), name: Self.name).code == expected)
    }

    @Test("a conditional request whose answer may have been lost is outcomeUnknown; one surely not applied is not")
    func conditionalOutcomes() {
        let lost = [
            S3Error(code: S3Error.timeoutCode, message: "", status: 0), S3Error(code: S3Error.connectionLostCode, message: "", status: 0),
            S3Error(code: "InternalError", message: "", status: 500), S3Error(code: "HTTP502", message: "", status: 502),
        ]
        for error in lost {
            #expect(error.mayHaveBeenApplied)
            #expect(S3ObjectStore.translate(error, name: Self.name, conditional: true).code == .outcomeUnknown, "\(error)")
            #expect(S3ObjectStore.translate(error, name: Self.name, conditional: false).code == .unavailable, "\(error)")
        }
        let notApplied = [
            S3Error(code: S3Error.connectFailedCode, message: "", status: 0), S3Error(code: "SlowDown", message: "", status: 503),
            S3Error(code: "ConditionalRequestConflict", message: "", status: 409),
        ]
        for error in notApplied {
            #expect(!error.mayHaveBeenApplied)
            #expect(S3ObjectStore.translate(error, name: Self.name, conditional: true).code == .unavailable, "\(error)")
        }
    }

    @Test("transport failures: only a connection never made proves the request was not sent")
    func transportClassification() {
        let host = "s3.test"
        #expect(S3Client.transportError(HTTPClientError.connectTimeout, host: host).code == S3Error.connectFailedCode)
        #expect(S3Client.transportError(HTTPClientError.getConnectionFromPoolTimeout, host: host).code == S3Error.connectFailedCode)
        #expect(S3Client.transportError(IOError(errnoCode: ECONNREFUSED, reason: "connect"), host: host).code == S3Error.connectFailedCode)
        #expect(S3Client.transportError(HTTPClientError.readTimeout, host: host).code == S3Error.timeoutCode)
        #expect(S3Client.transportError(HTTPClientError.deadlineExceeded, host: host).code == S3Error.timeoutCode)
        #expect(S3Client.transportError(HTTPClientError.remoteConnectionClosed, host: host).code == S3Error.connectionLostCode)
        #expect(S3Client.transportError(IOError(errnoCode: ECONNRESET, reason: "read"), host: host).code == S3Error.connectionLostCode)
        let invalid = S3Client.transportError(HTTPClientError.invalidHeaderFieldValues(["a\u{1}"]), host: host)
        #expect(invalid.code == S3Error.invalidRequestCode && !invalid.isRetryable)
        #expect(S3ObjectStore.translate(invalid, name: Self.name).code == .invalidArgument)
    }

    @Test("streamed, the store holds S3's multipart ceiling of 5 TiB, and it reserves parts × concurrency for one upload")
    func limits() async throws {
        var configuration = try S3Configuration(
            endpoint: "http://127.0.0.1:9", bucket: "b", credentials: AWSCredentials(accessKeyID: "a", secretAccessKey: "s")
        )
        configuration.partSize = 8 << 20
        configuration.uploadConcurrency = 4
        let store = S3ObjectStore(client: S3Client(configuration: configuration))
        #expect(store.limits.maximumObjectBytes == 5 << 40)
        #expect(store.limits.streamsBodies)
        #expect(store.limits.streamBufferBytes == 40 << 20)
        try await store.client.shutdown()
    }
}
