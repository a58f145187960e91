import HTTPTypes
import KVStore

/// Reads `Range: bytes=` (RFC 9110 §14.2) as far as s3kv serves it: one range per request.
///
/// What it cannot serve exactly it ignores, as the RFC allows, and the whole value is sent with
/// 200: several ranges, another unit, a malformed value, and any `If-Range` (a range is then
/// sent only when the validator matches, and always sending the whole value is the safe answer).
enum RangeHeader {
    static func range(_ headers: HTTPFields) -> ValueRange? {
        guard headers[.ifRange] == nil, let value = headers[.range] else { return nil }
        return self.parse(value)
    }

    static func parse(_ value: String) -> ValueRange? {
        let trimmed = value.utf8.drop { $0 == UInt8(ascii: " ") }
        guard trimmed.starts(with: "bytes=".utf8) else { return nil }
        let spec = Substring(trimmed.dropFirst(6))
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let (start, end) = (spec[..<dash], spec[spec.index(after: dash)...])
        guard start.allSatisfy(\.isASCIIDigitCharacter), end.allSatisfy(\.isASCIIDigitCharacter) else { return nil }
        if start.isEmpty {
            guard let count = Int(end) else { return nil }
            return .suffix(count: count)
        }
        guard let first = Int(start) else { return nil }
        if end.isEmpty { return .bytes(first: first, last: nil) }
        guard let last = Int(end), last >= first else { return nil }
        return .bytes(first: first, last: last)
    }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { self.isASCII && self.isNumber }
}
