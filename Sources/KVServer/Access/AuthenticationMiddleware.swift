import HTTPTypes
import Hummingbird

/// Looks the request's bearer token up and records the outcome in the context.
///
/// It runs outside the telemetry middleware, so the access log can name the token; it never
/// refuses a request itself (``AuthorizationMiddleware`` does, inside the error middleware,
/// so refusals are JSON answers like every other error).
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = KVRequestContext

    let tokens: AccessTokens

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.access = Self.grant(request.headers[.authorization], tokens: self.tokens)
        return try await next(request, context)
    }

    /// The grant for an `Authorization` header's value: the scheme is case-insensitive
    /// (RFC 9110), the token the rest after one or more spaces.
    static func grant(_ header: String?, tokens: AccessTokens) -> AccessGrant {
        guard let header else { return .none(.missing) }
        let utf8 = header.utf8
        let scheme = "bearer".utf8
        guard utf8.count > scheme.count + 1,
            zip(utf8.prefix(scheme.count), scheme).allSatisfy({ $0 | 0x20 == $1 }),
            utf8.dropFirst(scheme.count).first == UInt8(ascii: " ")
        else { return .none(.malformed) }
        let token = header.utf8.dropFirst(scheme.count).drop { $0 == UInt8(ascii: " ") }
        guard !token.isEmpty else { return .none(.malformed) }
        guard let entry = tokens.authenticate(Substring(token)) else { return .none(.unknown) }
        return .token(entry)
    }
}
