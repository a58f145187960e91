public import Foundation
public import S3Protocol

/// Settings of the S3 server.
public struct S3ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The region signatures are scoped to and GetBucketLocation reports.
    public var region: String
    /// The access keys the server accepts. Empty means nobody can sign.
    public var credentials: [AWSCredentials]
    /// Whether requests without a signature are served. Off unless asked for: an S3 server
    /// that anyone on the network can write to must be a decision, not a default.
    public var allowAnonymous: Bool
    /// How far a signed request's clock may be from ours.
    public var maximumClockSkew: TimeInterval
    /// The largest object a single PutObject accepts, as on S3.
    public var maximumObjectBytes: Int
    /// Once a request head has begun, how long it may take to arrive whole.
    public var headerTimeout: Duration
    /// How long a connection may sit idle between requests.
    public var idleTimeout: Duration
    /// The domain of virtual-hosted addressing: `photos.<domain>` is bucket `photos`. Nil
    /// serves path-style only.
    public var domain: String?

    public init(
        host: String = "127.0.0.1", port: Int = 9000, region: String = "us-east-1", credentials: [AWSCredentials] = [],
        allowAnonymous: Bool = false, maximumClockSkew: TimeInterval = 900, maximumObjectBytes: Int = 5 << 30,
        headerTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(60), domain: String? = nil
    ) {
        self.host = host
        self.port = port
        self.region = region
        self.credentials = credentials
        self.allowAnonymous = allowAnonymous
        self.maximumClockSkew = maximumClockSkew
        self.maximumObjectBytes = maximumObjectBytes
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.domain = domain
    }
}
