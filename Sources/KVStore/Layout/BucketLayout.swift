public import ObjectStore

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
/// deployment-wide prefix (`S3_PREFIX`) is applied by the backend, below. Every name is built
/// and taken apart by bytes, so a key keeps exactly its bytes in every name.
public enum BucketLayout {
    /// The prefix of current values.
    public static let valuesPrefix: ObjectName = "kv/"
    static let versionsPrefix: ObjectName = "versions/"
    static let expiryPrefix: ObjectName = "expiry/"
    static let versionDigits = 20
    static let instantDigits = 13

    /// The object that holds the current value of `key`.
    public static func valueObject(for key: Key) -> ObjectName {
        valuesPrefix + key.objectName
    }

    /// The key whose current value `name` holds, or nil when `name` is not a value object of a
    /// valid key (objects other tools put under `kv/`).
    static func key(ofValueObject name: ObjectName) -> Key? {
        guard let rest = name.removingPrefix(valuesPrefix) else { return nil }
        return try? Key(utf8: rest.utf8)
    }

    /// The prefix of every archived version of `key`. A child key's versions (`<key>/...`) share
    /// it, so listings of one key's history use ``versionNamesPrefix(for:)`` and a delimiter.
    static func versionsPrefix(for key: Key) -> ObjectName {
        versionsPrefix + key.objectName + "/"
    }

    /// The prefix of the version objects of `key` itself: every 20-digit number of an `Int64`
    /// starts with `0`, and a delimiter `/` rolls up any child key that also starts with `0`.
    static func versionNamesPrefix(for key: Key) -> ObjectName {
        versionsPrefix(for: key) + "0"
    }

    /// The object that holds version `version` of `key` once it has been replaced.
    static func versionObject(for key: Key, version: Int64) -> ObjectName {
        versionsPrefix(for: key) + ObjectName(padded(version, digits: versionDigits))
    }

    /// The version an archived object's name carries, or nil when the name is not one of
    /// `key`'s own version objects.
    static func version(ofVersionObject name: ObjectName, key: Key) -> Int64? {
        guard let digits = name.removingPrefix(versionsPrefix(for: key)) else { return nil }
        return number(digits, count: versionDigits)
    }

    /// The expiry index entry for `key` expiring at `expiresAt`.
    static func expiryObject(for key: Key, expiresAt: UnixMilliseconds) -> ObjectName {
        expiryPrefix + ObjectName(padded(expiresAt.value, digits: instantDigits)) + "/" + key.objectName
    }

    /// The instant and key an expiry index entry names, or nil when the name is not one.
    static func parseExpiryObject(_ name: ObjectName) -> (expiresAt: UnixMilliseconds, key: Key)? {
        guard let rest = name.removingPrefix(expiryPrefix) else { return nil }
        let bytes = Array(rest.utf8)
        guard bytes.count > instantDigits + 1, bytes[instantDigits] == UInt8(ascii: "/"),
            let millis = number(ObjectName(String(decoding: bytes[..<instantDigits], as: UTF8.self)), count: instantDigits),
            let key = try? Key(utf8: bytes[(instantDigits + 1)...])
        else { return nil }
        return (UnixMilliseconds(millis), key)
    }

    /// The first expiry index name after every entry due at or before `instant`.
    static func expiryBound(after instant: UnixMilliseconds) -> ObjectName {
        expiryPrefix + ObjectName(padded(instant.value + 1, digits: instantDigits))
    }

    private static func padded(_ value: Int64, digits: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// The value of exactly `count` ASCII digits, or nil.
    private static func number(_ name: ObjectName, count: Int) -> Int64? {
        guard name.byteCount == count, name.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            return nil
        }
        return Int64(name.string)
    }
}
