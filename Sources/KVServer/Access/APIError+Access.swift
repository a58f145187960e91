import HTTPTypes

extension APIError {
    /// No usable token: 401 with the challenge RFC 6750 asks for.
    static func unauthorized(_ failure: AuthFailure) -> APIError {
        let (message, challenge): (String, String) =
            switch failure {
            case .malformed: ("the Authorization header must be 'Bearer <token>'", #"Bearer realm="s3kv", error="invalid_request""#)
            case .unknown: ("the bearer token is not valid", #"Bearer realm="s3kv", error="invalid_token""#)
            default: ("this endpoint needs a bearer token (Authorization: Bearer <token>)", #"Bearer realm="s3kv""#)
            }
        var error = APIError(.unauthorized, code: "unauthorized", message: message, headers: [.wwwAuthenticate: challenge])
        error.authFailure = failure
        return error
    }

    /// A known token without the scope the request needs.
    static func missingScope(_ needed: AccessScope, token: AccessToken) -> APIError {
        var error = APIError(
            .forbidden, code: "forbidden",
            message: "this request needs the \(needed.rawValue) scope; token '\(token.name)' has \(token.scope.rawValue)",
            headers: [.wwwAuthenticate: #"Bearer realm="s3kv", error="insufficient_scope", scope="\#(needed.rawValue)""#]
        )
        error.authFailure = .scope
        return error
    }

    /// A key outside the prefix the token is confined to.
    static func outsidePrefix(_ prefix: String) -> APIError {
        var error = APIError(.forbidden, code: "forbidden", message: "the token reaches only keys that start with '\(prefix)'")
        error.authFailure = .prefix
        return error
    }

    /// A batch with items outside the token's prefix: refused whole, each such item named.
    static func forbiddenItems(_ items: [ItemProblem], prefix: String) -> APIError {
        var error = APIError(
            .forbidden, code: "forbidden",
            message: "\(items.count) item\(items.count == 1 ? " is" : "s are") outside '\(prefix)', the prefix the token reaches; nothing was done"
        )
        error.items = items
        error.authFailure = .prefix
        return error
    }

    /// An address that failed too often, told when to try again.
    static func throttled(retryAfter: Duration) -> APIError {
        let seconds = max(1, Int((retryAfter / .seconds(1)).rounded(.up)))
        var error = APIError(
            .tooManyRequests, code: "too_many_auth_failures",
            message: "too many failed authentications from this address; try again in \(seconds) s",
            headers: [.retryAfter: String(seconds)]
        )
        error.authFailure = .throttled
        return error
    }
}

extension KVRequestContext {
    /// Refuses `key` when the request's token is confined to a prefix it is not under.
    func authorize(_ key: String) throws(APIError) {
        guard self.access.permits(key: key) else {
            throw .outsidePrefix(self.access.confinement ?? "")
        }
    }
}
