import Foundation
import Testing

@testable import KVServer

@Suite struct HTTPDateTests {
    @Test("IMF-fixdate formatting", arguments: [
        (0.0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (784_111_777.0, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (951_782_400.5, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (1_700_000_000.0, "Tue, 14 Nov 2023 22:13:20 GMT"),
        (4_102_444_799.0, "Thu, 31 Dec 2099 23:59:59 GMT"),
    ])
    func format(_ seconds: Double, _ expected: String) {
        #expect(HTTPDate.format(Date(timeIntervalSince1970: seconds)) == expected)
    }
}
