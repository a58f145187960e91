import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import S3Protocol
import TestSupport

/// One request to the own S3 server, signed (header auth) with our signer, for requests the
/// S3 client would never send: any bucket name, any header, a body that does not match them.
struct SignedRequest {
    var method: HTTPMethod
    /// The path, not encoded: `/bucket` or `/bucket/key`.
    var path: String
    var query: [(name: String, value: String)] = []
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []
    var credentials = OwnS3Server.credentials
    var date = Date()
    /// The payload hash signed; by default the body's.
    var payloadHash: String?
    /// The Host header; by default the server's loopback address.
    var host: String?

    /// What came back: the status, headers, body and, for an error, S3's code.
    struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var text: String { String(decoding: self.body, as: UTF8.self) }
        /// `<Error><Code>` of an XML error body.
        var code: String? { (try? XMLElement.parse(self.body))?.value("Code") }
        /// The parsed body.
        var xml: XMLElement? { try? XMLElement.parse(self.body) }
    }

    /// The request's URL, with `query` encoded as the signer encodes it.
    func url(_ server: OwnS3Server.Running, query: [(name: String, value: String)]) -> String {
        let encoded = query.map { "\(SigV4Signer.uriEncode($0.name))=\(SigV4Signer.uriEncode($0.value))" }.joined(separator: "&")
        return server.endpoint + SigV4Signer.encodePath(self.path) + (encoded.isEmpty ? "" : "?" + encoded)
    }

    func send(to server: OwnS3Server.Running) async throws -> Answer {
        var signed = SigV4Signer.Request(
            method: self.method.rawValue, encodedPath: SigV4Signer.encodePath(self.path), query: self.query,
            headers: [("host", self.host ?? "127.0.0.1:\(server.port)")] + self.headers, payloadHash: self.payloadHash ?? SigV4Signer.payloadHash(self.body)
        )
        SigV4Signer(credentials: self.credentials, region: "us-east-1").sign(&signed, date: self.date)
        var request = HTTPClientRequest(url: self.url(server, query: self.query))
        request.method = self.method
        for (name, value) in signed.headers { request.headers.add(name: name, value: value) }
        if self.method == .PUT || self.method == .POST || !self.body.isEmpty { request.body = .bytes(ByteBuffer(bytes: self.body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, body: Array(body.readableBytesView))
    }

    /// A presigned URL for this request (query auth, `UNSIGNED-PAYLOAD`), made at `date` and
    /// valid for `expires` seconds.
    func presignedURL(_ server: OwnS3Server.Running, expires: Int) -> String {
        let signer = SigV4Signer(credentials: self.credentials, region: "us-east-1")
        let timestamp = SigV4Signer.timestamp(self.date)
        var query = self.query + [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", "\(self.credentials.accessKeyID)/\(signer.scope(timestamp))"),
            ("X-Amz-Date", timestamp), ("X-Amz-Expires", String(expires)), ("X-Amz-SignedHeaders", "host"),
        ]
        let request = SigV4Signer.Request(
            method: self.method.rawValue, encodedPath: SigV4Signer.encodePath(self.path), query: query,
            headers: [("host", "127.0.0.1:\(server.port)")], payloadHash: "UNSIGNED-PAYLOAD"
        )
        let (canonical, _) = SigV4Signer.canonicalRequest(request)
        let signature = signer.signature(stringToSign: signer.stringToSign(canonicalRequest: canonical, timestamp: timestamp), timestamp: timestamp)
        query.append(("X-Amz-Signature", signature))
        return self.url(server, query: query)
    }
}

/// The storages the server runs on, for tests that take each.
enum ServerStorage: String, CaseIterable, CustomStringConvertible, Sendable {
    case memory, local
    var description: String { self.rawValue }

    /// Runs `body` with a fresh server on this storage, with one bucket `bucket` created.
    func withServer(bucket: String = "tests", _ body: (OwnS3Server.Running) async throws -> Void) async throws {
        switch self {
        case .memory:
            try await OwnS3Server.withServer { try await Self.prepared($0, bucket: bucket, body) }
        case .local:
            try await withTemporaryDirectory { directory in
                try await OwnS3Server.withServer(directory: directory) { try await Self.prepared($0, bucket: bucket, body) }
            }
        }
    }

    private static func prepared(_ server: OwnS3Server.Running, bucket: String, _ body: (OwnS3Server.Running) async throws -> Void) async throws {
        let created = try await SignedRequest(method: .PUT, path: "/\(bucket)").send(to: server)
        guard created.status == 200 else { throw SetupFailure(message: "CreateBucket: \(created.status) \(created.text)") }
        try await body(server)
    }
}

struct SetupFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { self.message }
}

/// Unsigned requests (anonymous, or presigned in the URL).
enum HTTPClientRequestFactory {
    static func plain(_ url: String) -> HTTPClientRequest { HTTPClientRequest(url: url) }

    static func send(_ request: HTTPClientRequest) async throws -> SignedRequest.Answer {
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        return SignedRequest.Answer(status: Int(response.status.code), headers: response.headers, body: Array(body.readableBytesView))
    }
}
