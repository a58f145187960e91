/// How long a value lives, as given in `?ttl=`: a bare number of seconds (`90`) or numbers with
/// units, largest first, combined (`1h30m`, `2d`, `1500ms`). Units: `ms`, `s`, `m`, `h`, `d`.
///
/// Zero, negative, malformed and over-the-maximum values are rejected with a message that says
/// what is accepted, so a typo never stores a value that lives forever or vanishes at once.
public struct TimeToLive: Sendable, Hashable, CustomStringConvertible {
    /// The longest time to live: 365 days. Long enough for any cache-like use; anything meant to
    /// outlive a year should not have a TTL at all.
    public static let maximum = TimeToLive(milliseconds: 365 * 86_400_000)

    /// The time to live in milliseconds, the resolution of stored expiry instants.
    public let milliseconds: Int64

    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    /// Parses the `ttl` query parameter.
    public init(parsing text: some StringProtocol) throws(TimeToLiveError) {
        let text = String(text)
        guard !text.isEmpty else { throw TimeToLiveError(text, "it is empty") }
        if let seconds = Int64(text) {
            guard seconds > 0 else { throw TimeToLiveError(text, "it must be greater than zero") }
            guard seconds <= Self.maximum.milliseconds / 1000 else { throw TimeToLiveError(text, "it is longer than the maximum") }
            self.init(milliseconds: seconds * 1000)
            return
        }
        var total: Int64 = 0
        var previousUnit: Int64 = .max
        var rest = Substring(text)
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 12, let amount = Int64(digits) else {
                throw TimeToLiveError(text, "expected a number before each unit")
            }
            rest = rest.dropFirst(digits.count)
            let unitName = rest.prefix { $0.isASCII && $0.isLetter }
            guard let unit = Self.units.first(where: { $0.name == unitName })?.milliseconds else {
                throw TimeToLiveError(text, unitName.isEmpty ? "a unit is missing after \(digits)" : "'\(unitName)' is not a unit")
            }
            guard unit < previousUnit else { throw TimeToLiveError(text, "units must go from largest to smallest, each once") }
            previousUnit = unit
            rest = rest.dropFirst(unitName.count)
            // Checked before adding, so no amount can overflow the sum.
            guard amount <= (Self.maximum.milliseconds - total) / unit else {
                throw TimeToLiveError(text, "it is longer than the maximum")
            }
            total += amount * unit
        }
        guard total > 0 else { throw TimeToLiveError(text, "it must be greater than zero") }
        self.init(milliseconds: total)
    }

    /// The units, largest first: the order they must appear in and are printed in.
    private static let units: [(name: String, milliseconds: Int64)] = [
        ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1),
    ]

    /// The canonical form, e.g. `1h30m` or `1500ms`.
    public var description: String {
        var rest = self.milliseconds
        var text = ""
        for (name, unit) in Self.units where rest >= unit {
            text += "\(rest / unit)\(name)"
            rest %= unit
        }
        return text
    }
}

/// Why a `ttl` is not accepted; the message also says what is.
public struct TimeToLiveError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    init(_ text: String, _ reason: String) {
        let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
        self.message =
            "invalid ttl '\(shown)': \(reason); use seconds (90) or numbers with units ms, s, m, h, d "
            + "from largest to smallest (30s, 1h30m, 1500ms), more than zero and at most \(TimeToLive.maximum)"
    }

    public var description: String { self.message }
}
