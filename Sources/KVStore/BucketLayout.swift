import Foundation

/// Where the key-value store keeps things in its object store.
///
/// ```
/// kv/<key>                          the current value of <key>
/// versions/<key>/<20-digit version> earlier versions (when history is on)
/// expiry/<13-digit unix ms>/<key>   the expiry index: one empty object per value with a TTL
/// ```
/// Object names keep the key readable and in key order, so a listing of keys is a listing of
/// objects under `kv/`. Numbers are zero-padded so that name order is numeric order: the
/// sweeper reads the expiry index oldest first, and a key's versions list in order. A
/// deployment-wide prefix (`S3_PREFIX`) is applied by the backend, below.
public enum BucketLayout {
    /// The prefix of current values.
    public static let valuesPrefix = "kv/"
    static let versionsPrefix = "versions/"
    static let expiryPrefix = "expiry/"

    /// The object that holds the current value of `key`.
    public static func valueObject(for key: Key) -> String {
        valuesPrefix + key.rawValue
    }

    /// The prefix of every archived version of `key`.
    static func versionsPrefix(for key: Key) -> String {
        versionsPrefix + key.rawValue + "/"
    }

    /// The object that holds version `version` of `key` once it has been replaced.
    static func versionObject(for key: Key, version: Int64) -> String {
        versionsPrefix(for: key) + padded(version, digits: 20)
    }

    /// The version an archived object's name carries.
    static func version(ofVersionObject name: String, key: Key) -> Int64? {
        let prefix = versionsPrefix(for: key)
        guard name.hasPrefix(prefix) else { return nil }
        let digits = name.dropFirst(prefix.count)
        guard digits.count == 20, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(digits)
    }

    /// The expiry index entry for `key` expiring at `expiresAt`.
    static func expiryObject(for key: Key, expiresAt: UnixMilliseconds) -> String {
        expiryPrefix + padded(expiresAt.value, digits: 13) + "/" + key.rawValue
    }

    /// The instant and key an expiry index entry names, or nil when the name is not one.
    static func parseExpiryObject(_ name: String) -> (expiresAt: UnixMilliseconds, key: Key)? {
        guard name.hasPrefix(expiryPrefix) else { return nil }
        let rest = name.dropFirst(expiryPrefix.count)
        let digits = rest.prefix(13)
        guard digits.count == 13, let millis = Int64(digits), rest.dropFirst(13).first == "/",
            let key = try? Key(String(rest.dropFirst(14)))
        else { return nil }
        return (UnixMilliseconds(millis), key)
    }

    /// The first expiry index name after every entry due at or before `instant`.
    static func expiryBound(after instant: UnixMilliseconds) -> String {
        expiryPrefix + padded(instant.value + 1, digits: 13)
    }

    private static func padded(_ value: Int64, digits: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}

/// An instant as milliseconds since 1970, the resolution expiry instants are stored in.
public struct UnixMilliseconds: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let value: Int64

    public init(_ value: Int64) {
        self.value = value
    }

    public init(_ date: Date) {
        self.value = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    public var date: Date { Date(timeIntervalSince1970: Double(self.value) / 1000) }

    public func adding(_ ttl: TimeToLive) -> UnixMilliseconds { UnixMilliseconds(self.value + ttl.milliseconds) }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }

    public var description: String { String(self.value) }
}
