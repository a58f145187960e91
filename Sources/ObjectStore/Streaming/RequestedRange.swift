/// Which bytes of an object a reader asks for, as `Range: bytes=` (RFC 9110 §14.2) says it,
/// before the object's size is known. Both servers read the header through this one parser.
public enum RequestedRange: Sendable, Equatable {
    /// From `first` to `last` (both included), or to the end when `last` is nil.
    case bytes(first: Int, last: Int?)
    /// The last `count` bytes.
    case suffix(count: Int)

    /// Parses one range of `bytes`. What cannot be served exactly (several ranges, another unit,
    /// a malformed value) is nil: the RFC lets a server ignore it and send the whole object.
    public init?(header value: String) {
        let trimmed = value.utf8.drop { $0 == UInt8(ascii: " ") }
        guard trimmed.starts(with: "bytes=".utf8) else { return nil }
        let spec = Substring(trimmed.dropFirst(6))
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let (start, end) = (spec[..<dash], spec[spec.index(after: dash)...])
        let isDigit: (UInt8) -> Bool = { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        guard start.utf8.allSatisfy(isDigit), end.utf8.allSatisfy(isDigit) else { return nil }
        if start.isEmpty {
            guard let count = Int(end) else { return nil }
            self = .suffix(count: count)
            return
        }
        guard let first = Int(start) else { return nil }
        if end.isEmpty {
            self = .bytes(first: first, last: nil)
            return
        }
        guard let last = Int(end), last >= first else { return nil }
        self = .bytes(first: first, last: last)
    }

    /// The range within an object of `size` bytes, or nil when none of it is there (HTTP 416).
    public func resolved(size: Int) -> ByteRange? {
        switch self {
        case .bytes(let first, let last):
            guard first < size else { return nil }
            return ByteRange(first: first, last: min(last ?? size - 1, size - 1))
        case .suffix(let count):
            guard count > 0, size > 0 else { return nil }
            return ByteRange(first: max(0, size - count), last: size - 1)
        }
    }
}
