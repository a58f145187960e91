import ArgumentParser
import Foundation
import KVServer
import WireFormat

/// `s3kv token`: makes a new random token and the token-file entry that accepts it.
///
/// The token is printed once, for the client; only its digest goes into the file, so the file
/// can be kept in configuration management without holding a secret.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Make a bearer token and its entry for KV_AUTH_TOKENS_FILE.",
        discussion: """
            Prints two lines: the token (give it to the client; it is not stored anywhere) and
            the JSON entry to add to the "tokens" array of the token file. Send the server SIGHUP
            to load the new file.
            """
    )

    @Option(help: "The token's name, as the access log shows it (letters, digits, '.', '_', '-').") var name: String
    @Option(help: "read, write or admin.") var scope: String
    @Option(help: "Confine the token to keys that start with this prefix.") var prefix: String?

    func validate() throws {
        guard AccessScope(rawValue: self.scope) != nil else { throw ValidationError("--scope must be read, write or admin") }
        if self.prefix?.isEmpty == true { throw ValidationError("--prefix must not be empty") }
    }

    func run() throws {
        var generator = SystemRandomNumberGenerator()
        // 256 random bits; the s3kv_ prefix lets secret scanners recognise a leaked token.
        let token = "s3kv_" + Hex.encode((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        var entry: [String: String] = ["name": self.name, "scope": self.scope, "sha256": Hex.encode(AccessToken.digest(of: token))]
        if let prefix = self.prefix { entry["prefix"] = prefix }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(entry), as: UTF8.self)
        // The entry is checked as the server will check it.
        _ = try AccessTokenFile.parse(Data(#"{"tokens":[\#(json)]}"#.utf8), path: "the entry")
        print(token)
        print(json)
    }
}
