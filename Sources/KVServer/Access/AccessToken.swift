import Crypto
import ObjectStore

/// One entry of the token file: who holds a token, what it may do, and where.
///
/// Only the token's SHA-256 digest is kept, in memory as in the file, so neither a leaked
/// file nor a memory dump gives a usable token.
public struct AccessToken: Sendable, Equatable {
    /// The token's name, as the access log and error messages show it; never the token.
    public var name: String
    public var scope: AccessScope
    /// The key prefix the token is confined to, compared as UTF-8 bytes; nil for every key.
    public var prefix: String?
    /// SHA-256 of the token's bytes.
    public var digest: [UInt8]

    public init(name: String, scope: AccessScope, prefix: String? = nil, digest: [UInt8]) {
        self.name = name
        self.scope = scope
        self.prefix = prefix
        self.digest = digest
    }

    /// An entry for the token `secret`.
    public init(name: String, scope: AccessScope, prefix: String? = nil, secret: some StringProtocol) {
        self.init(name: name, scope: scope, prefix: prefix, digest: Self.digest(of: secret))
    }

    /// Whether the token may touch `key`: every key, or those that start with its prefix byte
    /// for byte (so an NFD spelling of a prefix does not open the NFC keys).
    public func permits(key: String) -> Bool {
        guard let prefix = self.prefix else { return true }
        return UTF8Bytes.hasPrefix(key, prefix)
    }

    /// The SHA-256 digest of a presented token, as the file stores it.
    public static func digest(of secret: some StringProtocol) -> [UInt8] {
        Array(SHA256.hash(data: Array(secret.utf8)))
    }

    /// Whether two digests are equal, in time that depends only on their length.
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
