import Crypto
import Foundation

/// An entity tag as S3 reports it: the quoted form, e.g. `"9e107d9d372bb6826bd81d3542a419d6"`.
///
/// ETags are opaque: compare them for equality only. The local backends compute the quoted MD5
/// of the body, as S3 does for single-part uploads, so tags look the same on every backend.
public struct ETag: Sendable, Hashable, CustomStringConvertible {
    /// The quoted tag, as sent in `ETag`, `If-Match` and `If-None-Match` headers.
    public let quoted: String

    /// Creates a tag from its header form; a bare tag is quoted, a weak prefix is dropped.
    public init(_ value: String) {
        var value = Substring(value)
        if value.hasPrefix("W/") { value = value.dropFirst(2) }
        if value.count >= 2, value.first == "\"", value.last == "\"" {
            self.quoted = String(value)
        } else {
            self.quoted = "\"\(value)\""
        }
    }

    /// The S3-style tag of a body: the quoted hex MD5 of its bytes.
    public static func md5<Bytes: Sequence>(of bytes: Bytes) -> ETag where Bytes.Element == UInt8 {
        let digest =
            bytes.withContiguousStorageIfAvailable { Insecure.MD5.hash(data: UnsafeRawBufferPointer($0)) }
            ?? Insecure.MD5.hash(data: Array(bytes))
        return ETag("\"\(Hex.encode(digest))\"")
    }

    public var description: String { self.quoted }
}

/// The value of an `If-None-Match` precondition: any current object, or one of a list of tags.
public enum ETagMatch: Sendable, Equatable {
    case any
    case oneOf([ETag])

    /// Whether an object with `etag` satisfies this match.
    public func matches(_ etag: ETag) -> Bool {
        switch self {
        case .any: true
        case .oneOf(let tags): tags.contains(etag)
        }
    }
}
