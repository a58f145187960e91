import KVStore
import TestSupport
import Testing

@Suite struct TimeToLiveTests {
    @Test("accepted forms", arguments: [
        ("30s", 30_000), ("90", 90_000), ("1h30m", 5_400_000), ("1500ms", 1500), ("2d", 172_800_000),
        ("1d2h3m4s5ms", 93_784_005), ("1m", 60_000), ("365d", 31_536_000_000), ("31536000", 31_536_000_000),
        ("364d23h59m59s999ms", 31_535_999_999), ("31536000000ms", 31_536_000_000),
    ] as [(String, Int64)])
    func accepted(_ text: String, _ milliseconds: Int64) throws {
        #expect(try TimeToLive(parsing: text).milliseconds == milliseconds)
    }

    @Test("rejected forms say what is accepted", arguments: [
        "", "0", "-5", "0s", "5x", "s", "1h30", "30m1h", "1s1s", "1.5s", " 30s", "30s ", "366d", "31536001", "99999999999999d", "1h-5m",
        // Twelve-digit amounts whose product or sum would overflow 64 bits (schemathesis found the first).
        "999999999999d", "364d999999999999h", "365d1ms", "31536000001ms",
    ])
    func rejected(_ text: String) {
        #expect {
            try TimeToLive(parsing: text)
        } throws: { error in
            let message = (error as? TimeToLiveError)?.message ?? ""
            return message.contains("use seconds (90) or numbers with units ms, s, m, h, d") && message.contains("at most 365d")
        }
    }

    @Test("the canonical form reads back", arguments: ["1h30m", "1500ms", "2d", "1d2h3m4s5ms"])
    func roundTrip(_ text: String) throws {
        let ttl = try TimeToLive(parsing: text)
        #expect(try TimeToLive(parsing: ttl.description) == ttl)
        #expect(ttl.description == (text == "1500ms" ? "1s500ms" : text))
    }
}
