public import Foundation

/// The UTC timestamp formats on the wire, written and read without Foundation formatters: they
/// are costly to create and not safe to share between threads, and these run per request.
///
/// - IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §5.6.7): HTTP `Last-Modified`.
/// - ISO 8601 (`2026-11-22T03:25:57.000Z`): S3 listings, and expiry instants in the API.
/// - Compact ISO 8601 (`20261122T032557Z`): SigV4's `x-amz-date`.
public enum TimestampFormat {
    private static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    public static func imfFixdate(_ date: Date) -> String {
        let time = CivilTime(date)
        let weekday = weekdays[((time.days % 7) + 7) % 7]
        return "\(weekday), \(pad(time.day, 2)) \(months[time.month - 1]) \(pad(time.year, 4)) "
            + "\(pad(time.hour, 2)):\(pad(time.minute, 2)):\(pad(time.second, 2)) GMT"
    }

    /// Parses IMF-fixdate; the weekday is not checked against the date.
    public static func parseIMFFixdate(_ text: String) -> Date? {
        let fields = text.split(separator: " ")
        guard fields.count == 6, fields[5] == "GMT", let day = Int(fields[1]), let year = Int(fields[3]),
            let monthIndex = months.firstIndex(where: { $0 == fields[2] })
        else { return nil }
        let clock = fields[4].split(separator: ":")
        guard clock.count == 3, let hour = Int(clock[0]), let minute = Int(clock[1]), let second = Int(clock[2]) else { return nil }
        return CivilTime.date(year: year, month: monthIndex + 1, day: day, hour: hour, minute: minute, second: second)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z`.
    public static func parseISO8601(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z"), bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let year = number(bytes[0..<4]), let month = number(bytes[5..<7]), let day = number(bytes[8..<10]),
            let hour = number(bytes[11..<13]), let minute = number(bytes[14..<16]), let second = number(bytes[17..<19]),
            let whole = CivilTime.date(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        else { return nil }
        let fraction = bytes[19..<(bytes.count - 1)]
        if fraction.isEmpty { return whole }
        guard fraction.first == UInt8(ascii: "."), fraction.count > 1, let digits = number(fraction.dropFirst()) else { return nil }
        return whole.addingTimeInterval(Double(digits) / pow(10, Double(fraction.count - 1)))
    }

    /// Parses `YYYYMMDD'T'HHMMSS'Z'`, SigV4's timestamp.
    public static func parseCompactISO8601(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z"),
            let year = number(bytes[0..<4]), let month = number(bytes[4..<6]), let day = number(bytes[6..<8]),
            let hour = number(bytes[9..<11]), let minute = number(bytes[11..<13]), let second = number(bytes[13..<15])
        else { return nil }
        return CivilTime.date(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, to the millisecond (RFC 3339).
    public static func iso8601(_ date: Date) -> String {
        let time = CivilTime(date)
        let millisecond = Int((date.timeIntervalSince1970 * 1000).rounded(.down)) - Int(date.timeIntervalSince1970.rounded(.down)) * 1000
        return "\(pad(time.year, 4))-\(pad(time.month, 2))-\(pad(time.day, 2))T\(pad(time.hour, 2)):\(pad(time.minute, 2)):"
            + "\(pad(time.second, 2)).\(pad(millisecond, 3))Z"
    }

    public static func compactISO8601(_ date: Date) -> String {
        let time = CivilTime(date)
        return "\(pad(time.year, 4))\(pad(time.month, 2))\(pad(time.day, 2))T\(pad(time.hour, 2))\(pad(time.minute, 2))\(pad(time.second, 2))Z"
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        var value = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(digit - UInt8(ascii: "0"))
        }
        return value
    }
}

/// A whole-second UTC instant split into calendar fields (proleptic Gregorian), with Howard
/// Hinnant's days-from-civil algorithms.
private struct CivilTime {
    /// Days since 1970-01-01.
    var days: Int
    var year: Int, month: Int, day: Int
    var hour: Int, minute: Int, second: Int

    init(_ date: Date) {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        self.days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - self.days * 86_400
        (self.hour, self.minute, self.second) = (secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
        let z = self.days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        self.day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        self.month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        self.year = yearOfEra + era * 400 + (self.month <= 2 ? 1 : 0)
    }

    /// The instant of the given fields, or nil when a field is out of range.
    static func date(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Date? {
        guard (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute),
            (0...60).contains(second)
        else { return nil }
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Date(timeIntervalSince1970: Double(days * 86_400 + hour * 3600 + minute * 60 + second))
    }
}
