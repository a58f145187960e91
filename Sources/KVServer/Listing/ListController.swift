import Foundation
import Hummingbird
import KVStore
import ObjectStore

/// `GET /kv`: keys in key order, by prefix and range, one page at a time.
///
/// Query parameters: `prefix`, `start` (inclusive), `end` (exclusive), `delimiter`, `limit`
/// (default 100, at most 1,000) and `cursor` (the `next_cursor` of the previous page, only with
/// the same prefix, start, end and delimiter). Collection operations live on `/kv` itself, so no
/// key name is taken from the key space under `/kv/`.
struct ListController: Sendable {
    /// The longest prefix, start, end or delimiter accepted: a key's maximum length.
    static let maximumParameterBytes = Key.maximumBytes

    let store: KeyValueStore

    func list(_ request: Request, context: KVRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        // Byte strings: decoded from the raw query, so nothing is compared or stripped as text.
        let raw = RawQuery(request.uri.query)
        let scope = ListCursor.Scope(
            prefix: try Self.text(raw, "prefix") ?? "",
            start: try Self.text(raw, "start"),
            end: try Self.text(raw, "end"),
            delimiter: try Self.text(raw, "delimiter")
        )
        if scope.delimiter?.isEmpty == true { throw APIError.badRequest("invalid_delimiter", "delimiter must not be empty") }
        // A token confined to a prefix lists under it: a shorter prefix (or none) is taken as
        // the token's, and a prefix beside it lists nothing.
        var prefix = scope.prefix
        if let confinement = context.access.confinement, !UTF8Bytes.hasPrefix(prefix.string, confinement) {
            guard UTF8Bytes.hasPrefix(confinement, prefix.string) else {
                return try JSONResponse.make(ListResponse(items: [], prefixes: [], nextCursor: nil))
            }
            prefix = ObjectName(confinement)
        }
        var query = KeyListQuery(prefix: prefix, start: scope.start, end: scope.end, delimiter: scope.delimiter)
        if let text = parameters["limit"] {
            guard let limit = Int(text), (1...KeyListQuery.maximumLimit).contains(limit) else {
                throw APIError.badRequest(
                    "invalid_limit", "limit must be a whole number from 1 to \(KeyListQuery.maximumLimit), got '\(text.prefix(40))'"
                )
            }
            query.limit = limit
        }
        if let text = parameters["cursor"] {
            do {
                query.continuation = try ListCursor(decoding: String(text), for: scope).token
            } catch {
                throw APIError.badRequest(
                    "invalid_cursor",
                    error == .otherQuery
                        ? "the cursor belongs to a listing with another prefix, start, end or delimiter"
                        : "the cursor is malformed or was altered; pass next_cursor back unchanged"
                )
            }
        }
        let page = try await self.store.list(query)
        return try JSONResponse.make(
            ListResponse(
                items: page.entries.map { EntryAttributes($0, withKey: true) },
                prefixes: page.commonPrefixes.map(\.string),
                nextCursor: page.continuation.map { ListCursor(token: $0).encoded(for: scope) }
            )
        )
    }

    private static func text(_ query: RawQuery, _ name: String) throws(APIError) -> ObjectName? {
        guard let value = try query.name(name) else { return nil }
        guard value.byteCount <= maximumParameterBytes else {
            throw .badRequest("invalid_\(name)", "\(name) must be at most \(maximumParameterBytes) bytes of UTF-8")
        }
        return value
    }
}

/// The body of `GET /kv`.
struct ListResponse: Encodable {
    var items: [EntryAttributes]
    /// With a delimiter: the common prefixes ("folders") on this page.
    var prefixes: [String]
    /// Absent on the last page.
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case items, prefixes
        case nextCursor = "next_cursor"
    }
}
