import Crypto
public import Foundation
import WireFormat

/// AWS Signature Version 4 for header-signed requests, with S3's rules: the path is URI-encoded
/// exactly once and never normalised, and the payload hash is sent in `x-amz-content-sha256`.
///
/// Checked against AWS's published test vectors (see `SigV4VectorTests`).
public struct SigV4Signer: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The SHA-256 of an empty payload.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// A request as the signer sees it.
    public struct Request: Sendable {
        public var method: String
        /// The path, already URI-encoded once (see ``SigV4Signer/encodePath(_:)``).
        public var encodedPath: String
        /// Query parameters, not encoded.
        public var query: [(name: String, value: String)]
        /// Header names and values; must include `host`.
        public var headers: [(name: String, value: String)]
        /// Hex SHA-256 of the body.
        public var payloadHash: String

        public init(method: String, encodedPath: String, query: [(name: String, value: String)] = [], headers: [(name: String, value: String)], payloadHash: String) {
            self.method = method
            self.encodedPath = encodedPath
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    /// Adds `x-amz-date`, the session token, optionally `x-amz-content-sha256`, and
    /// `Authorization` to the request's headers.
    ///
    /// - Parameter includeContentHashHeader: S3 requires the header; other services' vectors omit it.
    public func sign(_ request: inout Request, date: Date, includeContentHashHeader: Bool = true) {
        let timestamp = Self.timestamp(date)
        request.headers.append(("x-amz-date", timestamp))
        if includeContentHashHeader { request.headers.append(("x-amz-content-sha256", request.payloadHash)) }
        if let token = self.credentials.sessionToken { request.headers.append(("x-amz-security-token", token)) }
        let (canonical, signedHeaders) = Self.canonicalRequest(request)
        let scope = self.scope(timestamp)
        let signature = self.signature(stringToSign: self.stringToSign(canonicalRequest: canonical, timestamp: timestamp), timestamp: timestamp)
        request.headers.append((
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=\(self.credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        ))
    }

    // MARK: The steps, exposed for the test vectors

    /// The canonical request and the signed-headers list.
    public static func canonicalRequest(_ request: Request) -> (canonical: String, signedHeaders: String) {
        var headers: [String: [String]] = [:]
        for (name, value) in request.headers {
            headers[name.lowercased(), default: []].append(Self.canonicalHeaderValue(value))
        }
        let names = headers.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(headers[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let encodedQuery: [(name: String, value: String)] = request.query.map { (uriEncode($0.name), uriEncode($0.value)) }
        let sortedQuery = encodedQuery.sorted { $0.name == $1.name ? $0.value < $1.value : $0.name < $1.name }
        let query = sortedQuery.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        let canonical = [request.method, request.encodedPath, query, canonicalHeaders, signedHeaders, request.payloadHash]
            .joined(separator: "\n")
        return (canonical, signedHeaders)
    }

    public func stringToSign(canonicalRequest: String, timestamp: String) -> String {
        ["AWS4-HMAC-SHA256", timestamp, self.scope(timestamp), Hex.encode(SHA256.hash(data: Array(canonicalRequest.utf8)))]
            .joined(separator: "\n")
    }

    public func signature(stringToSign: String, timestamp: String) -> String {
        let day = String(timestamp.prefix(8))
        var key = SymmetricKey(data: Array("AWS4\(self.credentials.secretAccessKey)".utf8))
        for part in [day, self.region, self.service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
    }

    /// The credential scope of a timestamp: `YYYYMMDD/region/service/aws4_request`.
    public func scope(_ timestamp: String) -> String {
        "\(timestamp.prefix(8))/\(self.region)/\(self.service)/aws4_request"
    }

    // MARK: Encoding

    /// `YYYYMMDD'T'HHMMSS'Z'` in UTC.
    public static func timestamp(_ date: Date) -> String { TimestampFormat.compactISO8601(date) }

    /// Encodes a path once: every byte but the unreserved characters and `/` as `%XX`.
    public static func encodePath(_ path: String) -> String { uriEncode(path, keepSlash: true) }

    /// RFC 3986 encoding as SigV4 defines it: unreserved characters stay, everything else is
    /// `%XX` with upper-case hex.
    public static func uriEncode(_ string: String, keepSlash: Bool = false) -> String {
        PercentEncoding.encode(string.utf8, keepSlash: keepSlash)
    }

    /// Trims a header value and folds runs of spaces into one.
    static func canonicalHeaderValue(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).joined(separator: " ")
    }

    /// Hex SHA-256 of a payload.
    public static func payloadHash<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let digest =
            bytes.withContiguousStorageIfAvailable { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
            ?? SHA256.hash(data: Array(bytes))
        return Hex.encode(digest)
    }
}
