public import Foundation
import WireFormat

/// The token file (`KV_AUTH_TOKENS_FILE`): JSON, one entry per token.
///
/// ```json
/// {"tokens": [
///   {"name": "deploy", "scope": "admin", "sha256": "<64 hex digits>"},
///   {"name": "tenant-a", "scope": "write", "prefix": "tenant-a/", "sha256": "<64 hex digits>"}
/// ]}
/// ```
///
/// `sha256` is the digest of the token's UTF-8 bytes (`printf %s "$TOKEN" | sha256sum`), so the
/// file holds no secret. Names are unique, and so are digests: one token has one meaning. A
/// file that breaks a rule is refused whole, naming the entry, so a typo never opens or closes
/// a token silently.
public enum AccessTokenFile {
    /// The longest name: names go into every access log line.
    public static let maximumNameBytes = 64

    private struct Document: Decodable {
        struct Entry: Decodable {
            var name: String?
            var scope: String?
            var prefix: String?
            var sha256: String?
        }
        var tokens: [Entry]
    }

    /// Reads and checks the file at `path`.
    public static func load(path: String) throws(AccessTokenFileError) -> [AccessToken] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw AccessTokenFileError(path: path, message: "cannot be read (\((error as NSError).localizedDescription))")
        }
        return try Self.parse(data, path: path)
    }

    /// Checks the file's contents; `path` only names the file in errors.
    public static func parse(_ data: Data, path: String) throws(AccessTokenFileError) -> [AccessToken] {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: data)
        } catch {
            throw AccessTokenFileError(path: path, message: "is not JSON of the form {\"tokens\": [{\"name\", \"scope\", \"prefix\", \"sha256\"}]}")
        }
        var tokens: [AccessToken] = []
        var names: Set<String> = []
        var digests: Set<[UInt8]> = []
        for (index, entry) in document.tokens.enumerated() {
            func fail(_ message: String) -> AccessTokenFileError {
                AccessTokenFileError(path: path, message: "tokens[\(index)]\(entry.name.map { " (\($0))" } ?? ""): \(message)")
            }
            guard let name = entry.name, !name.isEmpty, name.utf8.count <= Self.maximumNameBytes,
                name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) })
            else {
                throw fail("name must be 1 to \(Self.maximumNameBytes) ASCII letters, digits, '.', '_' or '-'")
            }
            // Names are ASCII, so comparing them as strings compares their bytes.
            guard names.insert(name).inserted else { throw fail("the name is used by an earlier entry") }
            guard let text = entry.scope, let scope = AccessScope(rawValue: text) else {
                throw fail("scope must be one of \(AccessScope.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if let prefix = entry.prefix, prefix.isEmpty {
                throw fail("prefix must not be empty; leave it out for a token that reaches every key")
            }
            guard let hex = entry.sha256, hex.utf8.count == 64, let digest = Hex.decode(hex.lowercased()) else {
                throw fail("sha256 must be the 64 hex digits of the token's SHA-256 digest")
            }
            guard digests.insert(digest).inserted else { throw fail("the digest is also an earlier entry's: the same token twice") }
            tokens.append(AccessToken(name: name, scope: scope, prefix: entry.prefix, digest: digest))
        }
        return tokens
    }
}
