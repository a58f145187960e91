import HTTPTypes
import KVStore
import ObjectStore

/// Parsing of `If-Match` and `If-None-Match` (RFC 9110 §13.1) into what the store supports.
enum ConditionalHeaders {
    /// The precondition of a PUT. Object stores compare one tag per write, so a list of tags is
    /// rejected rather than half-honoured.
    static func writePrecondition(_ headers: HTTPFields) throws(APIError) -> WritePrecondition {
        let ifMatch = headers[.ifMatch]
        let ifNoneMatch = headers[.ifNoneMatch]
        switch (ifMatch, ifNoneMatch) {
        case (nil, nil):
            return .none
        case (.some, .some):
            throw .badRequest("invalid_precondition", "send either If-Match or If-None-Match, not both")
        case (let ifMatch?, nil):
            return try singleTag(ifMatch, header: "If-Match").map(WritePrecondition.ifMatch) ?? .ifExists
        case (nil, let ifNoneMatch?):
            guard ifNoneMatch.trimmingSpaces == "*" else {
                throw .badRequest("invalid_precondition", "If-None-Match on a write supports only '*' (create only)")
            }
            return .ifNoneExists
        }
    }

    /// The `If-Match` of a DELETE: nil for none or `*` (a delete already requires the key to exist).
    static func deletePrecondition(_ headers: HTTPFields) throws(APIError) -> ETag? {
        guard let ifMatch = headers[.ifMatch] else { return nil }
        return try singleTag(ifMatch, header: "If-Match")
    }

    /// The `If-None-Match` of a read: `*` or a list of tags.
    static func readPrecondition(_ headers: HTTPFields) -> ETagMatch? {
        guard let value = headers[.ifNoneMatch] else { return nil }
        if value.trimmingSpaces == "*" { return .any }
        let tags = value.split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }.map(ETag.init)
        return tags.isEmpty ? nil : .oneOf(tags)
    }

    /// Whether the client asked for a read the backend confirms (`Cache-Control: no-cache`, or
    /// `max-age=0`), rather than one served from the cache (RFC 9111 §5.2.1).
    static func wantsFreshRead(_ headers: HTTPFields) -> Bool {
        guard let value = headers[.cacheControl] else { return false }
        return value.split(separator: ",").contains { directive in
            let directive = directive.trimmingSpaces.lowercased()
            return directive == "no-cache" || directive == "max-age=0"
        }
    }

    /// One entity tag, or nil for `*`.
    private static func singleTag(_ value: String, header: String) throws(APIError) -> ETag? {
        let value = value.trimmingSpaces
        if value == "*" { return nil }
        guard Self.isEntityTag(value) else {
            throw .badRequest("invalid_precondition", "\(header) takes one quoted entity tag or '*'")
        }
        return ETag(value)
    }

    /// `[W/]"…"` with visible ASCII inside other than `"` and `,` (RFC 9110's entity-tag, without
    /// the comma that would make it a list).
    static func isEntityTag(_ value: String) -> Bool {
        let tag = value.hasPrefix("W/") ? value.utf8.dropFirst(2) : value.utf8.dropFirst(0)
        guard tag.count >= 2, tag.first == UInt8(ascii: "\""), tag.last == UInt8(ascii: "\"") else { return false }
        return tag.dropFirst().dropLast().allSatisfy { byte in
            byte == 0x21 || (0x23...0x7E).contains(byte) && byte != UInt8(ascii: ",")
        }
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
