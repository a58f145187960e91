/// Why a request is refused, as the `reason` label of `s3kv_auth_failures_total` names it.
public enum AuthFailure: String, Sendable, CaseIterable {
    /// No `Authorization` header.
    case missing
    /// An `Authorization` header that is not `Bearer <token>`.
    case malformed
    /// A bearer token the file does not list.
    case unknown
    /// A known token whose scope is too small for the request.
    case scope
    /// A known token confined to a prefix the key is not under.
    case prefix
    /// The client's address failed too often and is made to wait.
    case throttled
}
