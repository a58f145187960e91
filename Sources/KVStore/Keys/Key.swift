public import ObjectStore

/// A validated key of the key-value store.
///
/// A key is 1 to ``maximumBytes`` bytes of UTF-8 with no control characters, no leading or
/// trailing `/`, no empty segment (`//`) and no `.` or `..` segment. These rules make every key
/// a valid object name on AWS S3, MinIO and Ceph, leave room under S3's 1,024-byte limit for the
/// bucket layout's prefixes, and keep object names readable and in key order, so a listing of
/// keys is a plain listing of objects.
///
/// A key is its bytes. Equality, hashing and ordering compare UTF-8 bytes, and the rules split
/// on the byte `/`, never on Swift `Character`s: `"é"` (U+00E9) and `"e\u{301}"` are two keys,
/// as they are two objects in every object store, and a `/` followed by a combining mark is
/// still a segment boundary. Nothing is normalised: the client's bytes are the key.
public struct Key: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The longest key, in UTF-8 bytes.
    public static let maximumBytes = 512

    /// The key as text, for JSON and logs. Compare keys, never their text.
    public let rawValue: String

    /// Validates `string`'s UTF-8 bytes as a key.
    public init(_ string: String) throws(KeyError) {
        try self.init(utf8: string.utf8)
    }

    /// Validates `bytes` as a key.
    public init(utf8 bytes: some Collection<UInt8>) throws(KeyError) {
        if bytes.isEmpty { throw KeyError(.empty) }
        if bytes.count > Self.maximumBytes { throw KeyError(.tooLong) }
        guard let string = String(validating: bytes, as: UTF8.self) else { throw KeyError(.invalidUTF8) }
        if string.unicodeScalars.contains(where: Self.isControl) { throw KeyError(.controlCharacter) }
        let slash = UInt8(ascii: "/")
        let dot = UInt8(ascii: ".")
        if bytes.first == slash { throw KeyError(.leadingSlash) }
        if string.utf8.last == slash { throw KeyError(.trailingSlash) }
        for segment in string.utf8.split(separator: slash, omittingEmptySubsequences: false) {
            if segment.isEmpty { throw KeyError(.emptySegment) }
            if segment.allSatisfy({ $0 == dot }) && segment.count <= 2 { throw KeyError(.dotSegment) }
        }
        self.rawValue = string
    }

    /// The key's bytes.
    public var utf8: String.UTF8View { self.rawValue.utf8 }

    /// The key's bytes as part of an object name.
    public var objectName: ObjectName { ObjectName(self.rawValue) }

    public var description: String { self.rawValue }

    public static func == (lhs: Key, rhs: Key) -> Bool {
        UTF8Bytes.equal(lhs.rawValue, rhs.rawValue)
    }

    public func hash(into hasher: inout Hasher) {
        UTF8Bytes.hash(self.rawValue, into: &hasher)
    }

    /// Keys order by their UTF-8 bytes: the order S3 lists objects in.
    public static func < (lhs: Key, rhs: Key) -> Bool {
        lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8)
    }

    /// C0 controls, DEL and C1 controls.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}
