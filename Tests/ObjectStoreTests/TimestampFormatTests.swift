import Foundation
import ObjectStore
import TestSupport
import Testing
import WireFormat

@Suite struct TimestampFormatTests {
    static let instants: [(Double, String)] = [
        (0.0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (784_111_777.0, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (951_782_400.5, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (1_700_000_000.0, "Tue, 14 Nov 2023 22:13:20 GMT"),
        (4_102_444_799.0, "Thu, 31 Dec 2099 23:59:59 GMT"),
    ]

    @Test("IMF-fixdate formatting", arguments: instants)
    func format(_ seconds: Double, _ expected: String) {
        #expect(TimestampFormat.imfFixdate(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test("IMF-fixdate parsing reads back whole seconds", arguments: instants)
    func parse(_ seconds: Double, _ text: String) {
        #expect(TimestampFormat.parseIMFFixdate(text) == Date(timeIntervalSince1970: seconds.rounded(.down)))
    }

    @Test("ISO 8601 as S3 lists it, with and without fractions", arguments: [
        ("2023-11-14T22:13:20.000Z", 1_700_000_000.0),
        ("2023-11-14T22:13:20Z", 1_700_000_000.0),
        ("2023-11-14T22:13:20.250Z", 1_700_000_000.25),
        ("1970-01-01T00:00:00.000Z", 0.0),
        ("2000-02-29T00:00:00.000Z", 951_782_400.0),
    ])
    func iso8601(_ text: String, _ seconds: Double) {
        #expect(TimestampFormat.parseISO8601(text) == Date(timeIntervalSince1970: seconds))
    }

    @Test("malformed timestamps are nil, not a guess", arguments: [
        "", "yesterday", "2023-13-14T22:13:20Z", "2023-11-14 22:13:20Z", "2023-11-14T22:13:20.Z", "Tue, 14 Foo 2023 22:13:20 GMT",
        "Tue, 14 Nov 2023 25:13:20 GMT", "Tue, 14 Nov 2023 22:13:20 UTC",
    ])
    func malformed(_ text: String) {
        #expect(TimestampFormat.parseISO8601(text) == nil)
        #expect(TimestampFormat.parseIMFFixdate(text) == nil)
    }

    @Test("SigV4's compact form")
    func compact() {
        #expect(TimestampFormat.compactISO8601(Date(timeIntervalSince1970: 1_440_938_160)) == "20150830T123600Z")
    }

    @Test("hex is lower-case, two digits a byte")
    func hex() {
        #expect(Hex.encode([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(Hex.encode([UInt8]()) == "")
    }
}
