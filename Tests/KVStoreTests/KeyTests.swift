import KVStore
import TestSupport
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

    @Test("bytes are validated as they are: rules hold on the decoded bytes", arguments: [
        ([0x2F, 0x61], KeyError.Rule.leadingSlash), ([0x61, 0x2F, 0x2F, 0x62], .emptySegment),
        ([0x61, 0x2F, 0x2E, 0x2E, 0x2F, 0x62], .dotSegment), ([0x00], .controlCharacter), ([0xFF], .invalidUTF8),
        ([0xC3], .invalidUTF8), ([], .empty),
    ] as [([UInt8], KeyError.Rule)])
    func byteRules(_ bytes: [UInt8], rule: KeyError.Rule) {
        #expect(throws: KeyError(rule)) { try Key(utf8: bytes) }
    }

    @Test("keys order by UTF-8 bytes, as S3 lists them")
    func ordering() throws {
        let keys = try ["b", "B", "a", "é", "z", "~", "日本"].map { try Key($0) }
        #expect(keys.sorted().map(\.rawValue) == ["B", "a", "b", "z", "~", "é", "日本"])
    }
}
