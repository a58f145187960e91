/// Credentials for signing requests. The description never shows the secret or the token, so
/// credentials are safe to log by accident.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    /// The session token of temporary credentials (`x-amz-security-token`).
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String { "AWSCredentials(accessKeyID: \(self.accessKeyID), secret: <redacted>)" }
}
