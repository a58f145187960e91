/// The name of an object: UTF-8 text whose identity is its bytes.
///
/// Object stores compare, order and match names byte by byte. Swift's `String` does not: its
/// `==`, `hasPrefix` and `Character` iteration follow Unicode canonical equivalence, so `"é"`
/// (U+00E9) equals `"e\u{301}"` and `"/"` followed by a combining mark is one `Character`. A
/// name compared or sliced as a `String` can therefore address another object than the backend
/// would. This type makes the byte semantics the only ones available: equality, hashing,
/// ordering and prefix operations all work on the UTF-8 bytes, and the text is never normalised.
public struct ObjectName: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringInterpolation {
    /// The name as text, for logs, XML and headers. Compare names, never their text.
    public let string: String

    /// The name `string`, with exactly its UTF-8 bytes.
    public init(_ string: String) {
        self.string = string
    }

    public init(stringLiteral value: String) {
        self.string = value
    }

    public init(stringInterpolation: DefaultStringInterpolation) {
        self.string = String(stringInterpolation: stringInterpolation)
    }

    /// The name with these bytes, or nil when they are not valid UTF-8.
    public init?(validatingUTF8 bytes: some Collection<UInt8>) {
        guard let string = String(validating: bytes, as: UTF8.self) else { return nil }
        self.string = string
    }

    /// The name's bytes.
    public var utf8: String.UTF8View { self.string.utf8 }

    /// The length of the name in bytes, the unit S3's limits are stated in.
    public var byteCount: Int { self.string.utf8.count }

    public var isEmpty: Bool { self.string.utf8.isEmpty }

    public var description: String { self.string }

    public static func == (lhs: ObjectName, rhs: ObjectName) -> Bool {
        UTF8Bytes.equal(lhs.string, rhs.string)
    }

    public func hash(into hasher: inout Hasher) {
        UTF8Bytes.hash(self.string, into: &hasher)
    }

    /// Byte order: the order S3 lists objects in.
    public static func < (lhs: ObjectName, rhs: ObjectName) -> Bool {
        lhs.string.utf8.lexicographicallyPrecedes(rhs.string.utf8)
    }

    /// Whether the name's bytes begin with `prefix`'s bytes.
    public func hasPrefix(_ prefix: ObjectName) -> Bool {
        UTF8Bytes.hasPrefix(self.string, prefix.string)
    }

    /// The rest of the name after `prefix`, or nil when the name does not begin with it.
    ///
    /// A valid UTF-8 prefix always ends on a scalar boundary, so the rest is valid UTF-8 too.
    public func removingPrefix(_ prefix: ObjectName) -> ObjectName? {
        guard self.hasPrefix(prefix) else { return nil }
        return ObjectName(String(decoding: self.string.utf8.dropFirst(prefix.byteCount), as: UTF8.self))
    }

    /// The name made of `lhs`'s bytes followed by `rhs`'s.
    public static func + (lhs: ObjectName, rhs: ObjectName) -> ObjectName {
        ObjectName(lhs.string + rhs.string)
    }
}
