import Foundation
import NIOSSL
public import S3Protocol

/// How to reach a bucket: endpoint, addressing, credentials and the client's limits.
public struct S3Configuration: Sendable {
    /// `http` or `https`.
    public var scheme: String
    public var host: String
    /// The port, or nil for the scheme's default.
    public var port: Int?
    public var bucket: String
    public var region: String
    public var credentials: AWSCredentials
    /// Path-style (`host/bucket/key`, for MinIO, moto and most self-hosted stores) rather than
    /// virtual-hosted (`bucket.host/key`, AWS's default).
    public var forcePathStyle: Bool
    /// Attempts per request, first included (AWS's standard mode makes 3), within the caller's
    /// deadline.
    public var maxAttempts: Int
    /// The first retry waits up to this long; later ones double, up to ``maxBackoff``.
    public var baseBackoff: Duration
    public var maxBackoff: Duration
    public var connectTimeout: Duration
    /// Deadline of one attempt, from sending the request to the end of the response; a caller's
    /// shorter deadline (``Deadline``) caps it.
    public var requestTimeout: Duration
    /// Deadline of one attempt of a request S3 may work on for minutes before answering:
    /// CompleteMultipartUpload of a large object, CopyObject and UploadPartCopy. AWS keeps such
    /// connections alive with whitespace; other servers (moto) are silent until they answer, so
    /// these requests have no read timeout, only this deadline (capped by the caller's).
    public var patientRequestTimeout: Duration
    /// The longest wait for the next bytes of an answer: a backend that goes silent (a black
    /// hole) is given up on after this, well before a large transfer's whole deadline.
    public var readTimeout: Duration
    /// A retry is not started unless at least this much of the caller's deadline remains after
    /// its backoff: an attempt with less could only time out.
    public var minimumAttemptTime: Duration
    /// The largest response body accepted.
    public var maxResponseBytes: Int
    /// When requests stop being sent to a backend that does not answer.
    public var circuit: CircuitBreaker.Configuration
    /// Bodies of at least this many bytes (or of unknown length) are uploaded in parts.
    public var multipartThreshold: Int
    /// The size of each part of a multipart upload (at least 5 MiB, S3's minimum).
    public var partSize: Int
    /// Parts of one upload in flight at once; memory per upload is about part size × (this + 1).
    public var uploadConcurrency: Int
    /// The largest object one CopyObject copies (S3's limit, 5 GiB); a larger one is copied in
    /// parts with UploadPartCopy.
    public var maximumCopyBytes: Int
    /// A PEM file of CA certificates trusted for an https endpoint besides the system's: a
    /// MinIO or s3kv s3-server with a certificate of a private CA (`S3_CA_FILE`).
    public var caFile: String?

    /// - Parameter endpoint: for example `http://127.0.0.1:9000` or `https://s3.eu-west-1.amazonaws.com`.
    public init(
        endpoint: String,
        bucket: String,
        region: String = "us-east-1",
        credentials: AWSCredentials,
        forcePathStyle: Bool = true
    ) throws(S3Error) {
        guard let components = URLComponents(string: endpoint), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw S3Error(code: "InvalidEndpoint", message: "expected an http or https URL such as http://127.0.0.1:9000, got '\(endpoint)'", status: 0)
        }
        self.scheme = scheme
        self.host = host
        self.port = components.port
        self.bucket = bucket
        self.region = region
        self.credentials = credentials
        self.forcePathStyle = forcePathStyle
        // More than AWS's standard 3: with a tenth of requests failing, 5 attempts leave one
        // client request in 100,000 unanswered instead of one in 1,000; the deadline bounds them.
        self.maxAttempts = 5
        self.baseBackoff = .milliseconds(100)
        self.maxBackoff = .seconds(20)
        self.connectTimeout = .seconds(5)
        self.requestTimeout = .seconds(10)
        self.readTimeout = .seconds(5)
        self.patientRequestTimeout = .seconds(300)
        self.minimumAttemptTime = .milliseconds(250)
        self.maxResponseBytes = 1 << 30
        self.circuit = CircuitBreaker.Configuration()
        self.multipartThreshold = 16 << 20
        self.partSize = 8 << 20
        self.uploadConcurrency = 4
        self.maximumCopyBytes = 5 << 30
    }

    /// The Host header: the bucket is part of it with virtual-hosted addressing.
    var hostHeader: String {
        let host = self.forcePathStyle ? self.host : "\(self.bucket).\(self.host)"
        guard let port = self.port else { return host }
        return "\(host):\(port)"
    }

    /// The encoded path of an object (or of the bucket when `key` is nil).
    func encodedPath(key: String?) -> String {
        let keyPath = key.map { "/" + SigV4Signer.encodePath($0) } ?? "/"
        if self.forcePathStyle {
            return "/" + SigV4Signer.uriEncode(self.bucket) + (key == nil ? "" : keyPath)
        }
        return keyPath
    }
}

extension S3Configuration {
    /// Checks that `path` holds PEM certificates, so a wrong `S3_CA_FILE` stops start-up
    /// instead of failing every request's handshake.
    public static func checkCAFile(_ path: String) throws(S3Error) {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw S3Error(code: "InvalidCAFile", message: "\(path) is not a readable PEM file of certificates (\(error))", status: 0)
        }
        guard !certificates.isEmpty else { throw S3Error(code: "InvalidCAFile", message: "\(path) holds no certificate", status: 0) }
    }
}
