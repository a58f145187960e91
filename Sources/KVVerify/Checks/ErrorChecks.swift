import NIOHTTP1
/// Bad input gets a JSON error with the right status and code, and nothing is written.
enum ErrorChecks {
    static let all: [Check] = [badKeys, badTTLs]

    static let badKeys = Check("bad_keys", "keys that break the key rules are 400 with the rule's code, never stored") { context in
        let prefix = KVClient.path(context.key("bad"))
        let cases: [(String, String)] = [
            (prefix + "//empty-segment", "key_empty_segment"),
            (prefix + "/./dot", "key_dot_segment"),
            (prefix + "/trailing/", "key_trailing_slash"),
            // (Bytes that are not UTF-8, `%FF`, and malformed escapes, `%ZZ`, are not here: the
            // HTTP client decodes and re-encodes paths, so it cannot send them as they are.)
            (prefix + "/%01control", "key_control_character"),
            (prefix + "/" + String(repeating: "k", count: 513), "key_too_long"),
            ("/kv/", "key_empty"),
        ]
        for (path, code) in cases {
            try await context.client.send(.PUT, path, body: Array("x".utf8)).expectError(400, code, "PUT of a bad key")
        }
        return "\(cases.count) rules"
    }

    static let badTTLs = Check("bad_ttls", "?ttl= values that cannot be used are 400 invalid_ttl, and nothing is written") { context in
        let key = context.key("bad-ttl")
        for ttl in ["0", "-5", "abc", "1x", "366d", "1s1s"] {
            try await context.client.send(.PUT, KVClient.path(key, query: "ttl=\(ttl)"), body: Array("x".utf8))
                .expectError(400, "invalid_ttl", "PUT with ttl=\(ttl)")
        }
        try await context.client.send(.GET, KVClient.path(key)).expectError(404, "key_not_found", "the key of refused writes")
        try await context.client.send(.PUT, KVClient.path(key), headers: [("if-match", "not-quoted")], body: Array("x".utf8))
            .expectError(400, "invalid_precondition", "PUT with a malformed If-Match")
        return nil
    }
}
