/// Percent-decoding of URL paths and queries to bytes, exactly once.
///
/// Decoding produces bytes, not text: `%C3%A9` and `e%CC%81` decode to different bytes and stay
/// different, and bytes that are not UTF-8 are left to the caller to refuse.
public enum PercentEncoding {
    /// The bytes `text` encodes, or nil when a `%` is not followed by two hex digits.
    public static func decode(_ text: Substring.UTF8View) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var iterator = text.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    /// The bytes `text` encodes.
    public static func decode(_ text: String) -> [UInt8]? { self.decode(Substring(text).utf8) }

    /// RFC 3986 encoding as SigV4 and S3 define it: the unreserved characters stay, every other
    /// byte is `%XX` with upper-case hex; `/` stays when `keepSlash` is set (paths).
    public static func encode(_ bytes: some Sequence<UInt8>, keepSlash: Bool = false) -> String {
        let digits: StaticString = "0123456789ABCDEF"
        var result: [UInt8] = []
        result.reserveCapacity(bytes.underestimatedCount)
        digits.withUTF8Buffer { digits in
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                    result.append(byte)
                case UInt8(ascii: "/") where keepSlash:
                    result.append(byte)
                default:
                    result.append(UInt8(ascii: "%"))
                    result.append(digits[Int(byte >> 4)])
                    result.append(digits[Int(byte & 0x0F)])
                }
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
