/// An error answered by S3 (its XML `Code` and `Message`), or raised by the client itself.
public struct S3Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// S3's error code, e.g. `NoSuchKey`, `PreconditionFailed`, `SlowDown`, `AccessDenied`;
    /// for HEAD requests (no body) a code derived from the status.
    public var code: String
    public var message: String
    /// The HTTP status, or 0 when no response was received.
    public var status: Int

    public init(code: String, message: String, status: Int) {
        self.code = code
        self.message = message
        self.status = status
    }

    public var description: String { "\(self.code) (HTTP \(self.status)): \(self.message)" }

    /// Whether a retry may succeed: throttling, server errors, timeouts, and AWS's 409 for
    /// concurrent conditional writes (S3-FACTS: "Errors and retries").
    public var isRetryable: Bool {
        if self.status == 0 { return self.code == "ConnectionFailed" || self.code == "Timeout" }
        if self.status >= 500 { return true }
        return ["SlowDown", "RequestTimeout", "ConditionalRequestConflict", "RequestTimeTooSkewed"].contains(self.code)
    }

    /// Why a retryable error is retried, as a metric label from a small fixed set.
    var retryReason: String {
        switch (self.status, self.code) {
        case (0, "Timeout"), (_, "RequestTimeout"): "timeout"
        case (0, _): "connection_failed"
        case (_, "SlowDown"), (503, _): "throttled"
        case (_, "ConditionalRequestConflict"): "conflict"
        case (_, "RequestTimeTooSkewed"): "clock_skew"
        default: "server_error"
        }
    }

    /// Builds the error for a response, from its XML body when there is one.
    static func from(status: Int, body: [UInt8]) -> S3Error {
        if !body.isEmpty, let root = try? XMLElement.parse(body), root.name == "Error" {
            return S3Error(code: root.value("Code") ?? "Unknown", message: root.value("Message") ?? "", status: status)
        }
        let code: String =
            switch status {
            case 304: "NotModified"
            case 403: "AccessDenied"
            case 404: "NotFound"
            case 412: "PreconditionFailed"
            case 503: "SlowDown"
            default: "HTTP\(status)"
            }
        return S3Error(code: code, message: "HTTP status \(status)", status: status)
    }
}
