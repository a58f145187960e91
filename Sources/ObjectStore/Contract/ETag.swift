import Crypto
import Foundation
import WireFormat

/// An entity tag as S3 reports it: the quoted form, e.g. `"9e107d9d372bb6826bd81d3542a419d6"`.
///
/// ETags are opaque: compare them for equality only, byte by byte. The local backends compute
/// the quoted MD5 of the body, as S3 does for single-part uploads, so tags look the same on
/// every backend.
public struct ETag: Sendable, Hashable, CustomStringConvertible {
    /// The quoted tag, as sent in `ETag`, `If-Match` and `If-None-Match` headers.
    public let quoted: String

    /// Creates a tag from its header form; a bare tag is quoted, a weak prefix is dropped.
    public init(_ value: String) {
        var bytes = Substring(value).utf8[...]
        if bytes.starts(with: "W/".utf8) { bytes = bytes.dropFirst(2) }
        if bytes.count >= 2, bytes.first == UInt8(ascii: "\""), bytes.last == UInt8(ascii: "\"") {
            self.quoted = String(Substring(bytes))
        } else {
            self.quoted = "\"" + String(Substring(bytes)) + "\""
        }
    }

    /// The S3-style tag of a body: the quoted hex MD5 of its bytes.
    public static func md5<Bytes: Sequence>(of bytes: Bytes) -> ETag where Bytes.Element == UInt8 {
        let digest =
            bytes.withContiguousStorageIfAvailable { Insecure.MD5.hash(data: UnsafeRawBufferPointer($0)) }
            ?? Insecure.MD5.hash(data: Array(bytes))
        return ETag("\"\(Hex.encode(digest))\"")
    }

    public static func == (lhs: ETag, rhs: ETag) -> Bool { UTF8Bytes.equal(lhs.quoted, rhs.quoted) }

    public func hash(into hasher: inout Hasher) { UTF8Bytes.hash(self.quoted, into: &hasher) }

    public var description: String { self.quoted }
}
