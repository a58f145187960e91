import Synchronization

/// The tokens the server accepts, replaced whole when the token file is reloaded.
///
/// A request looks its token up once; a reload swaps the table between requests, so a request
/// is decided wholly by the old table or wholly by the new one, and connections stay open.
public final class AccessTokens: Sendable {
    private let tokens: Mutex<[AccessToken]>

    public init(_ tokens: [AccessToken]) {
        self.tokens = Mutex(tokens)
    }

    /// How many tokens are configured.
    public var count: Int { self.tokens.withLock { $0.count } }

    /// The entry whose digest is the presented token's, or nil.
    ///
    /// Every entry is compared, in constant time each, so how long the lookup takes says
    /// nothing about which digest was closest.
    public func authenticate(_ presented: some StringProtocol) -> AccessToken? {
        let digest = AccessToken.digest(of: presented)
        let tokens = self.tokens.withLock { $0 }
        var match: AccessToken?
        for token in tokens where AccessToken.constantTimeEqual(token.digest, digest) {
            match = token
        }
        return match
    }

    /// Replaces the table: tokens added are accepted and tokens removed refused from the next
    /// request on.
    public func replace(with tokens: [AccessToken]) {
        self.tokens.withLock { $0 = tokens }
    }
}
