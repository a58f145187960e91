/// An error answered by S3 (its XML `Code` and `Message`), or raised by the client itself.
public struct S3Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// S3's error code, e.g. `NoSuchKey`, `PreconditionFailed`, `SlowDown`, `AccessDenied`;
    /// for HEAD requests (no body) a code derived from the status; for failures without an
    /// answer one of the client's own codes below.
    public var code: String
    public var message: String
    /// The HTTP status, or 0 when no response was received.
    public var status: Int

    /// No connection could be made: the request was never sent.
    public static let connectFailedCode = "ConnectFailed"
    /// The request was sent (or may have been) but the connection failed before the answer.
    public static let connectionLostCode = "ConnectionLost"
    /// The request was sent (or may have been) but no answer came in time.
    public static let timeoutCode = "Timeout"
    /// The request could not be built (a header value HTTP cannot carry): never sent, never
    /// worth resending.
    public static let invalidRequestCode = "InvalidRequest"

    /// The caller's deadline passed before the request was sent: not applied, not retried.
    public static let deadlineExceeded = S3Error(
        code: "DeadlineExceeded", message: "the request's deadline passed before it could be sent", status: 0
    )
    /// The caller was cancelled (its client went away or its deadline passed) while the request
    /// was under way: its outcome is unknown, and it is not retried.
    public static let cancelled = S3Error(code: "Cancelled", message: "the request was cancelled", status: 0)
    /// S3 has not been answering (see ``CircuitBreaker``): the request was not sent.
    public static let circuitOpen = S3Error(
        code: "CircuitOpen", message: "S3 has not been answering; the request was not sent", status: 0
    )

    public init(code: String, message: String, status: Int) {
        self.code = code
        self.message = message
        self.status = status
    }

    public var description: String { "\(self.code) (HTTP \(self.status)): \(self.message)" }

    /// Whether a retry may succeed: throttling, server errors, timeouts, and AWS's 409 for
    /// concurrent conditional writes (S3-FACTS: "Errors and retries").
    public var isRetryable: Bool {
        if self.status == 0 { return [Self.connectFailedCode, Self.connectionLostCode, Self.timeoutCode].contains(self.code) }
        if self.status >= 500 { return true }
        return ["SlowDown", "RequestTimeout", "ConditionalRequestConflict", "RequestTimeTooSkewed"].contains(self.code)
    }

    /// Whether the request may have been carried out although it failed: the answer was lost
    /// (timeout, dropped connection) or the server failed mid-way (500, or a proxy's 502/504).
    /// Throttling (503), refused connections and refusals before any work (409 conflicts,
    /// skewed clocks, S3's own request timeout) are known not to have applied it.
    public var mayHaveBeenApplied: Bool {
        switch self.status {
        case 0: [Self.connectionLostCode, Self.timeoutCode, Self.cancelled.code].contains(self.code)
        case 503: false
        case 500...599: true
        default: false
        }
    }

    /// Builds the error for a response, from its XML body when there is one.
    public static func from(status: Int, body: [UInt8]) -> S3Error {
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
