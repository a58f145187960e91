import KVStore
import Testing

@Suite struct KeyTests {
    @Test("valid keys are accepted unchanged", arguments: [
        "a", "a/b", "a/b/c", "user:42", "with space", "é", "日本語/キー", "😀", "a.b", "..a", "a..", ".hidden", "a/.b",
        "%", "100%", String(repeating: "x", count: Key.maximumBytes),
    ])
    func valid(_ string: String) throws {
        #expect(try Key(string).rawValue == string)
    }

    @Test("each rule is enforced and named", arguments: [
        ("", KeyError.Rule.empty),
        (String(repeating: "x", count: Key.maximumBytes + 1), .tooLong),
        (String(repeating: "é", count: Key.maximumBytes / 2 + 1), .tooLong),
        ("a\u{0}b", .controlCharacter),
        ("line\nbreak", .controlCharacter),
        ("tab\t", .controlCharacter),
        ("del\u{7F}", .controlCharacter),
        ("c1\u{85}", .controlCharacter),
        ("/a", .leadingSlash),
        ("a/", .trailingSlash),
        ("a//b", .emptySegment),
        (".", .dotSegment),
        ("..", .dotSegment),
        ("a/./b", .dotSegment),
        ("a/../b", .dotSegment),
        ("a/..", .dotSegment),
    ])
    func invalid(_ string: String, rule: KeyError.Rule) {
        #expect(throws: KeyError(rule)) { try Key(string) }
    }

    @Test("every rule has a code starting with key_ and a message")
    func messages() {
        for rule in KeyError.Rule.allCases {
            #expect(KeyError(rule).code.hasPrefix("key_"))
            #expect(!KeyError(rule).message.isEmpty)
        }
    }

    @Test("percent-escapes are decoded exactly once", arguments: [
        ("a%2Fb", "a/b"), ("a%2fb", "a/b"), ("a/b", "a/b"), ("%2541", "%41"), ("caf%C3%A9", "café"),
        ("sp%20ace", "sp ace"), ("plus+sign", "plus+sign"),
    ])
    func percentDecoding(_ encoded: String, _ decoded: String) throws {
        #expect(try Key(percentEncoded: encoded[...]).rawValue == decoded)
    }

    @Test("decoding cannot smuggle a broken rule past validation", arguments: [
        ("%2Fa", KeyError.Rule.leadingSlash), ("a%2F%2Fb", .emptySegment), ("a/%2E%2E/b", .dotSegment),
        ("%00", .controlCharacter), ("%FF", .invalidUTF8), ("%C3", .invalidUTF8), ("%", .invalidEscape),
        ("%4", .invalidEscape), ("%zz", .invalidEscape), ("", .empty),
    ])
    func decodedRules(_ encoded: String, rule: KeyError.Rule) {
        #expect(throws: KeyError(rule)) { try Key(percentEncoded: encoded[...]) }
    }

    @Test("keys order by UTF-8 bytes, as S3 lists them")
    func ordering() throws {
        let keys = try ["b", "B", "a", "é", "z", "~", "日本"].map { try Key($0) }
        #expect(keys.sorted().map(\.rawValue) == ["B", "a", "b", "z", "~", "é", "日本"])
    }
}
