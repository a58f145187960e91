import HTTPTypes
import ObjectStore

/// Reads `Range: bytes=` (RFC 9110 §14.2) as far as s3kv serves it: one range per request.
///
/// What it cannot serve exactly it ignores, as the RFC allows, and the whole value is sent with
/// 200: several ranges, another unit, a malformed value, and any `If-Range` (a range is then
/// sent only when the validator matches, and always sending the whole value is the safe answer).
enum RangeHeader {
    static func range(_ headers: HTTPFields) -> RequestedRange? {
        guard headers[.ifRange] == nil, let value = headers[.range] else { return nil }
        return RequestedRange(header: value)
    }
}
