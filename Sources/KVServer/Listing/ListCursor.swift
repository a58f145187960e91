import Crypto
import Foundation
import ObjectStore

/// The opaque `cursor` of a listing page: the backend's continuation token, bound to the query
/// it continues.
///
/// A cursor holds a format version, a fingerprint of the query (prefix, start, end, delimiter)
/// and the token, followed by a checksum over all three, in URL-safe base64. A cursor that was
/// altered fails the checksum, and one from another query fails the fingerprint; either is a
/// 400. The checksum guards against mistakes, not adversaries: a cursor only says where in the
/// client's own listing to resume, which the client could ask for with `start` anyway.
struct ListCursor: Equatable {
    static let formatVersion: UInt8 = 1
    static let fingerprintBytes = 8
    static let checksumBytes = 8

    /// The query a cursor belongs to: the listing parameters that are not per page.
    struct Scope: Equatable {
        var prefix: ObjectName
        var start: ObjectName?
        var end: ObjectName?
        var delimiter: ObjectName?

        /// A digest of the parameters' bytes: a cursor from any other bytes is refused.
        var fingerprint: [UInt8] {
            var hasher = SHA256()
            for part in [self.prefix, self.start, self.end, self.delimiter] {
                // Length-prefixed, so ("ab", "c") and ("a", "bc") differ; nil differs from "".
                let bytes = part.map { Array($0.utf8) }
                hasher.update(data: [bytes == nil ? 0 : 1] + withUnsafeBytes(of: UInt32(bytes?.count ?? 0).bigEndian, Array.init))
                hasher.update(data: bytes ?? [])
            }
            return Array(hasher.finalize().prefix(ListCursor.fingerprintBytes))
        }
    }

    /// Why a cursor is refused.
    enum Failure: Error, Equatable {
        case malformed
        case otherQuery
    }

    var token: String

    /// The cursor's text for `scope`.
    func encoded(for scope: Scope) -> String {
        var bytes = [Self.formatVersion] + scope.fingerprint + Array(self.token.utf8)
        bytes += Self.checksum(bytes)
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Reads a cursor given back for `scope`.
    init(decoding text: String, for scope: Scope) throws(Failure) {
        guard text.utf8.count <= 4096 else { throw .malformed }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: base64) else { throw .malformed }
        let bytes = Array(data)
        let header = 1 + Self.fingerprintBytes
        guard bytes.count >= header + Self.checksumBytes, bytes[0] == Self.formatVersion else { throw .malformed }
        let body = Array(bytes.dropLast(Self.checksumBytes))
        guard Self.checksum(body) == Array(bytes.suffix(Self.checksumBytes)) else { throw .malformed }
        guard Array(body[1..<header]) == scope.fingerprint else { throw .otherQuery }
        guard let token = String(validating: body[header...], as: UTF8.self), !token.isEmpty else { throw .malformed }
        self.token = token
    }

    init(token: String) {
        self.token = token
    }

    private static func checksum(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes).prefix(Self.checksumBytes))
    }
}
