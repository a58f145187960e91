/// What the request's credentials are worth, as ``AuthenticationMiddleware`` found them.
///
/// Authentication only looks the token up; what the route needs is decided later, by
/// ``AuthorizationMiddleware``, so open endpoints answer whatever a request brings.
public enum AccessGrant: Sendable, Equatable {
    /// Access control is off: no token file is configured.
    case unrestricted
    /// A configured token.
    case token(AccessToken)
    /// No usable token, and why.
    case none(AuthFailure)

    /// The token's name, for the access log.
    public var tokenName: String? {
        if case .token(let token) = self { return token.name }
        return nil
    }

    /// Whether the request may touch `key`.
    public func permits(key: String) -> Bool {
        switch self {
        case .unrestricted: true
        case .token(let token): token.permits(key: key)
        case .none: false
        }
    }

    /// The prefix the request's listings are confined to, if any.
    var confinement: String? {
        if case .token(let token) = self { return token.prefix }
        return nil
    }
}
