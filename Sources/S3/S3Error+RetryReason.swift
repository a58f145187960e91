import S3Protocol

extension S3Error {
    /// Why a retryable error is retried, as a metric label from a small fixed set.
    var retryReason: String {
        switch (self.status, self.code) {
        case (0, Self.timeoutCode), (_, "RequestTimeout"): "timeout"
        case (0, _): "connection_failed"
        case (_, "SlowDown"), (503, _): "throttled"
        case (_, "ConditionalRequestConflict"): "conflict"
        case (_, "RequestTimeTooSkewed"): "clock_skew"
        default: "server_error"
        }
    }
}
