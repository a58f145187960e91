import Crypto
public import Foundation
import WireFormat

/// Checks AWS Signature Version 4 on a request that arrived: the server's half of
/// ``SigV4Signer``.
///
/// It rebuilds the canonical request with the signer's own code, so what s3kv signs and what it
/// verifies cannot drift apart. Both forms S3 accepts are checked: the `Authorization` header,
/// and presigned URLs (query parameters, with `X-Amz-Expires`). The payload hash the signature
/// covers is returned, not checked: the body has not been read yet, so the caller checks it as
/// the body streams (see ``Payload``).
public struct SigV4Verifier: Sendable {
    /// Finds the credentials of an access key id; nil for an unknown key.
    public typealias CredentialLookup = @Sendable (_ accessKeyID: String) -> AWSCredentials?

    private let lookup: CredentialLookup
    /// The region signatures must be scoped to.
    public let region: String
    /// How far a request's timestamp may be from the server's clock, as on S3 (15 minutes).
    public let maximumSkew: TimeInterval
    /// The longest validity a presigned URL may ask for: seven days, as on S3.
    public static let maximumPresignedExpiry = 604_800

    public init(region: String, maximumSkew: TimeInterval = 900, lookup: @escaping CredentialLookup) {
        self.region = region
        self.maximumSkew = maximumSkew
        self.lookup = lookup
    }

    /// A request as it arrived.
    public struct Request: Sendable {
        public var method: String
        /// The path as sent, still percent-encoded.
        public var rawPath: String
        /// The query as sent (after `?`), still percent-encoded; empty when there is none.
        public var rawQuery: String
        /// Header names (any case) and values, in arrival order.
        public var headers: [(name: String, value: String)]

        public init(method: String, rawPath: String, rawQuery: String, headers: [(name: String, value: String)]) {
            self.method = method
            self.rawPath = rawPath
            self.rawQuery = rawQuery
            self.headers = headers
        }

        func header(_ name: String) -> String? {
            self.headers.first { $0.name.lowercased() == name }?.value
        }
    }

    /// What the signature covers of the body, from `x-amz-content-sha256`.
    public enum Payload: Sendable, Equatable {
        /// `UNSIGNED-PAYLOAD`: the body is not covered (presigned URLs; TLS-only clients).
        case unsigned
        /// The hex SHA-256 the body must have.
        case sha256(String)
        /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: aws-chunked, each chunk signed.
        case streamingSigned
        /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks and a signed trailer.
        case streamingSignedTrailer
        /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: aws-chunked, unsigned, with a checksum trailer.
        case streamingUnsignedTrailer

        init?(_ header: String) {
            switch header {
            case "UNSIGNED-PAYLOAD": self = .unsigned
            case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD": self = .streamingSigned
            case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER": self = .streamingSignedTrailer
            case "STREAMING-UNSIGNED-PAYLOAD-TRAILER": self = .streamingUnsignedTrailer
            default:
                let bytes = Array(header.utf8)
                guard bytes.count == 64, Hex.decode(header.lowercased()) != nil else { return nil }
                self = .sha256(header.lowercased())
            }
        }
    }

    /// A request whose signature holds.
    public struct Verified: Sendable {
        public var accessKeyID: String
        public var payload: Payload
        /// What chunk signatures of a streamed payload chain from: the request's signature,
        /// its timestamp, and its signer.
        public var seedSignature: String
        public var timestamp: String
        public var signer: SigV4Signer
    }

    /// Verifies the request's signature at `now`.
    ///
    /// - Returns: nil when the request carries no signature at all (anonymous); the caller
    ///   decides whether that is allowed.
    /// - Throws: S3's error for a request whose signature is malformed, stale, or wrong.
    public func verify(_ request: Request, now: Date) throws(S3Error) -> Verified? {
        if let authorization = request.header("authorization") {
            return try self.verifyHeader(authorization, request: request, now: now)
        }
        let query = Self.parseQuery(request.rawQuery)
        if query.contains(where: { $0.name == "X-Amz-Signature" || $0.name == "X-Amz-Credential" }) {
            return try self.verifyQuery(query, request: request, now: now)
        }
        return nil
    }

    // MARK: The two forms

    private func verifyHeader(_ authorization: String, request: Request, now: Date) throws(S3Error) -> Verified {
        let algorithm = "AWS4-HMAC-SHA256 "
        guard authorization.hasPrefix(algorithm) else {
            if authorization.hasPrefix("AWS ") {
                throw S3Error(code: "InvalidRequest", message: "Signature Version 2 is not supported; sign requests with SigV4", status: 400)
            }
            throw S3Error(code: "AuthorizationHeaderMalformed", message: "the authorization header is not AWS4-HMAC-SHA256", status: 400)
        }
        var fields: [String: String] = [:]
        for part in authorization.dropFirst(algorithm.count).split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            fields[String(pair[0])] = String(pair[1])
        }
        guard let credential = fields["Credential"], let signedHeaders = fields["SignedHeaders"], let signature = fields["Signature"] else {
            throw S3Error(
                code: "AuthorizationHeaderMalformed", message: "the authorization header needs Credential, SignedHeaders and Signature",
                status: 400
            )
        }
        guard let timestamp = request.header("x-amz-date") ?? request.header("date").flatMap(Self.compactTimestamp) else {
            throw S3Error(code: "AccessDenied", message: "the request has no x-amz-date header", status: 403)
        }
        guard let hash = request.header("x-amz-content-sha256") else {
            throw S3Error(code: "InvalidRequest", message: "SigV4 requests to S3 must carry x-amz-content-sha256", status: 400)
        }
        guard let payload = Payload(hash) else {
            throw S3Error(code: "InvalidArgument", message: "x-amz-content-sha256 must be a hex SHA-256 or a known payload mode", status: 400)
        }
        let (signer, scopeDay) = try self.signer(credential: credential, malformed: "AuthorizationHeaderMalformed")
        try self.checkTime(timestamp, scopeDay: scopeDay, now: now, expires: nil)
        let expected = try self.signature(
            request: request, query: Self.parseQuery(request.rawQuery), signedHeaders: signedHeaders, payloadHash: hash,
            timestamp: timestamp, signer: signer
        )
        try Self.check(signature, expected: expected)
        return Verified(accessKeyID: signer.credentials.accessKeyID, payload: payload, seedSignature: signature, timestamp: timestamp, signer: signer)
    }

    private func verifyQuery(_ query: [(name: String, value: String)], request: Request, now: Date) throws(S3Error) -> Verified {
        func value(_ name: String) -> String? { query.first { $0.name == name }?.value }
        guard value("X-Amz-Algorithm") == "AWS4-HMAC-SHA256" else {
            throw S3Error(code: "AuthorizationQueryParametersError", message: "X-Amz-Algorithm must be AWS4-HMAC-SHA256", status: 400)
        }
        guard let credential = value("X-Amz-Credential"), let timestamp = value("X-Amz-Date"), let signedHeaders = value("X-Amz-SignedHeaders"),
            let signature = value("X-Amz-Signature"), let expiresText = value("X-Amz-Expires")
        else {
            throw S3Error(
                code: "AuthorizationQueryParametersError",
                message: "a presigned URL needs X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature",
                status: 400
            )
        }
        guard let expires = Int(expiresText), expires >= 0 else {
            throw S3Error(code: "AuthorizationQueryParametersError", message: "X-Amz-Expires must be a number of seconds", status: 400)
        }
        guard expires <= Self.maximumPresignedExpiry else {
            throw S3Error(
                code: "AuthorizationQueryParametersError", message: "X-Amz-Expires must be less than a week (in seconds); that is, 604800",
                status: 400
            )
        }
        let (signer, scopeDay) = try self.signer(credential: credential, malformed: "AuthorizationQueryParametersError")
        try self.checkTime(timestamp, scopeDay: scopeDay, now: now, expires: expires)
        let hash = request.header("x-amz-content-sha256") ?? "UNSIGNED-PAYLOAD"
        guard let payload = Payload(hash) else {
            throw S3Error(code: "InvalidArgument", message: "x-amz-content-sha256 must be a hex SHA-256 or a known payload mode", status: 400)
        }
        let expected = try self.signature(
            request: request, query: query.filter { $0.name != "X-Amz-Signature" }, signedHeaders: signedHeaders, payloadHash: hash,
            timestamp: timestamp, signer: signer
        )
        try Self.check(signature, expected: expected)
        return Verified(accessKeyID: signer.credentials.accessKeyID, payload: payload, seedSignature: signature, timestamp: timestamp, signer: signer)
    }

    // MARK: Steps

    /// The signer for a credential scope `AKID/YYYYMMDD/region/s3/aws4_request`, and its day.
    private func signer(credential: String, malformed: String) throws(S3Error) -> (SigV4Signer, String) {
        let parts = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, parts[4] == "aws4_request", parts[1].utf8.count == 8 else {
            throw S3Error(code: malformed, message: "the credential '\(credential)' is malformed", status: 400)
        }
        guard parts[2] == self.region else {
            throw S3Error(code: malformed, message: "the region '\(parts[2])' is wrong; expecting '\(self.region)'", status: 400)
        }
        guard parts[3] == "s3" else {
            throw S3Error(code: malformed, message: "the service '\(parts[3])' is wrong; expecting 's3'", status: 400)
        }
        guard let credentials = self.lookup(parts[0]) else {
            throw S3Error(code: "InvalidAccessKeyId", message: "The AWS Access Key Id you provided does not exist in our records.", status: 403)
        }
        return (SigV4Signer(credentials: credentials, region: self.region), parts[1])
    }

    private func checkTime(_ timestamp: String, scopeDay: String, now: Date, expires: Int?) throws(S3Error) {
        guard let date = TimestampFormat.parseCompactISO8601(timestamp) else {
            throw S3Error(code: "AccessDenied", message: "the request's date '\(timestamp)' is not YYYYMMDDTHHMMSSZ", status: 403)
        }
        guard timestamp.hasPrefix(scopeDay) else {
            throw S3Error(code: "SignatureDoesNotMatch", message: "the credential's date does not match the request's date", status: 403)
        }
        if let expires {
            guard date.timeIntervalSince(now) <= self.maximumSkew else {
                throw S3Error(code: "AccessDenied", message: "Request is not valid yet", status: 403)
            }
            guard now.timeIntervalSince(date) <= TimeInterval(expires) else {
                throw S3Error(code: "AccessDenied", message: "Request has expired", status: 403)
            }
        } else if abs(now.timeIntervalSince(date)) > self.maximumSkew {
            throw S3Error(
                code: "RequestTimeTooSkewed", message: "The difference between the request time and the current time is too large.",
                status: 403
            )
        }
    }

    private func signature(
        request: Request, query: [(name: String, value: String)], signedHeaders: String, payloadHash: String, timestamp: String,
        signer: SigV4Signer
    ) throws(S3Error) -> String {
        let names = signedHeaders.split(separator: ";").map { $0.lowercased() }
        guard names.contains("host") else {
            throw S3Error(code: "AccessDenied", message: "the host header must be signed", status: 403)
        }
        var headers: [(name: String, value: String)] = []
        for name in names {
            let values = request.headers.filter { $0.name.lowercased() == name }
            guard !values.isEmpty else {
                throw S3Error(code: "SignatureDoesNotMatch", message: "the signed header '\(name)' is not in the request", status: 403)
            }
            headers.append(contentsOf: values.map { (name, $0.value) })
        }
        guard let pathBytes = PercentEncoding.decode(request.rawPath) else {
            throw S3Error(code: "InvalidURI", message: "Couldn't parse the specified URI.", status: 400)
        }
        let canonical = SigV4Signer.Request(
            method: request.method, encodedPath: PercentEncoding.encode(pathBytes, keepSlash: true), query: query, headers: headers,
            payloadHash: payloadHash
        )
        let (canonicalRequest, _) = SigV4Signer.canonicalRequest(canonical)
        return signer.signature(stringToSign: signer.stringToSign(canonicalRequest: canonicalRequest, timestamp: timestamp), timestamp: timestamp)
    }

    private static func check(_ signature: String, expected: String) throws(S3Error) {
        guard constantTimeEqual(Array(signature.utf8), Array(expected.utf8)) else {
            throw S3Error(
                code: "SignatureDoesNotMatch",
                message: "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
                status: 403
            )
        }
    }

    /// Compares two byte strings in time that depends on their length only.
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }

    /// The query's parameters, each name and value percent-decoded once; `+` is kept as is.
    public static func parseQuery(_ raw: String) -> [(name: String, value: String)] {
        guard !raw.isEmpty else { return [] }
        return raw.utf8.split(separator: UInt8(ascii: "&")).map { part in
            let pieces = part.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = PercentEncoding.decode(Substring(pieces[0]).utf8).map { String(decoding: $0, as: UTF8.self) } ?? Substring(pieces[0]).description
            let value = pieces.count > 1 ? (PercentEncoding.decode(Substring(pieces[1]).utf8).map { String(decoding: $0, as: UTF8.self) } ?? Substring(pieces[1]).description) : ""
            return (name, value)
        }
    }

    /// An IMF-fixdate `Date` header as SigV4's compact timestamp.
    private static func compactTimestamp(_ date: String) -> String? {
        TimestampFormat.parseIMFFixdate(date).map(TimestampFormat.compactISO8601)
    }
}
