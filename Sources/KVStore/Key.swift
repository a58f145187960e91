/// A validated key of the key-value store.
///
/// A key is 1 to ``maximumBytes`` bytes of UTF-8 with no control characters, no leading or
/// trailing `/`, no empty segment (`//`) and no `.` or `..` segment. These rules make every key
/// a valid object name on AWS S3, MinIO and Ceph, leave room under S3's 1,024-byte limit for the
/// bucket layout's prefixes, and keep object names readable and in key order, so a listing of
/// keys is a plain listing of objects.
public struct Key: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The longest key, in UTF-8 bytes.
    public static let maximumBytes = 512

    /// The key as text.
    public let rawValue: String

    /// Validates `string` as a key.
    public init(_ string: String) throws(KeyError) {
        try self.init(utf8: Array(string.utf8))
    }

    /// Decodes a percent-encoded URL path segment exactly once and validates the result, so that
    /// `a/b` and `a%2Fb` name the same key and `%2541` names the key `%41`.
    public init(percentEncoded path: Substring) throws(KeyError) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(path.utf8.count)
        var iterator = path.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue) else {
                throw KeyError(.invalidEscape)
            }
            bytes.append(high << 4 | low)
        }
        try self.init(utf8: bytes)
    }

    private init(utf8 bytes: [UInt8]) throws(KeyError) {
        if bytes.isEmpty { throw KeyError(.empty) }
        if bytes.count > Self.maximumBytes { throw KeyError(.tooLong) }
        guard let string = String(validating: bytes, as: UTF8.self) else { throw KeyError(.invalidUTF8) }
        if string.unicodeScalars.contains(where: Self.isControl) { throw KeyError(.controlCharacter) }
        if bytes.first == UInt8(ascii: "/") { throw KeyError(.leadingSlash) }
        if bytes.last == UInt8(ascii: "/") { throw KeyError(.trailingSlash) }
        for segment in string.split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty { throw KeyError(.emptySegment) }
            if segment == "." || segment == ".." { throw KeyError(.dotSegment) }
        }
        self.rawValue = string
    }

    public var description: String { self.rawValue }

    /// Keys order by their UTF-8 bytes: the order S3 lists objects in.
    public static func < (lhs: Key, rhs: Key) -> Bool {
        lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8)
    }

    /// C0 controls, DEL and C1 controls.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Why a string is not a valid ``Key``; the message names the rule that was broken.
public struct KeyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The rule a key broke.
    public enum Rule: String, Sendable, CaseIterable {
        case empty = "key_empty"
        case tooLong = "key_too_long"
        case invalidUTF8 = "key_invalid_utf8"
        case invalidEscape = "key_invalid_escape"
        case controlCharacter = "key_control_character"
        case leadingSlash = "key_leading_slash"
        case trailingSlash = "key_trailing_slash"
        case emptySegment = "key_empty_segment"
        case dotSegment = "key_dot_segment"
    }

    public let rule: Rule

    public init(_ rule: Rule) {
        self.rule = rule
    }

    /// A stable, machine-readable code for clients.
    public var code: String { self.rule.rawValue }

    public var message: String {
        switch self.rule {
        case .empty: "the key must not be empty"
        case .tooLong: "the key must be at most \(Key.maximumBytes) bytes of UTF-8"
        case .invalidUTF8: "the key must be valid UTF-8"
        case .invalidEscape: "the key has a malformed percent-escape; '%' must be followed by two hex digits"
        case .controlCharacter: "the key must not contain control characters"
        case .leadingSlash: "the key must not start with '/'"
        case .trailingSlash: "the key must not end with '/'"
        case .emptySegment: "the key must not contain '//'"
        case .dotSegment: "the key must not contain a '.' or '..' segment"
        }
    }

    public var description: String { self.message }
}
