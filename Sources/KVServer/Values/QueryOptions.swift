import Hummingbird
import KVStore

/// The query parameters of the `/kv/<key>` endpoints, validated into the store's types.
enum QueryOptions {
    /// `?ttl=`: how long a written value lives.
    static func ttl(_ query: Parameters) throws(APIError) -> TimeToLive? {
        try query["ttl"].map { text throws(APIError) in try ttl(parsing: String(text)) }
    }

    /// A TTL as `?ttl=` and batch items give it; a bad one is a 400 `invalid_ttl`.
    static func ttl(parsing text: String) throws(APIError) -> TimeToLive {
        do {
            return try TimeToLive(parsing: text)
        } catch {
            throw .badRequest("invalid_ttl", error.message)
        }
    }

    /// `?version=`: which version to read.
    static func version(_ query: Parameters) throws(APIError) -> Int64? {
        guard let text = query["version"] else { return nil }
        guard let version = Int64(text), version > 0 else {
            throw .badRequest("invalid_version", "version must be a whole number from 1 up, got '\(text.prefix(40))'")
        }
        return version
    }

    /// `?versions`: list the key's versions instead of reading a value.
    static func wantsVersionList(_ query: Parameters) -> Bool {
        query.has("versions")
    }
}
