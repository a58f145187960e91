import ObjectStore
import WireFormat

/// The query of a request URL read as bytes: each parameter's name and value percent-decoded
/// exactly once and checked to be UTF-8.
///
/// Hummingbird's own query map leaves a value whose escapes do not decode to UTF-8 undecoded,
/// so `?prefix=%FF` would silently mean the three characters `%FF`. Parameters that are byte
/// strings (listing prefixes and bounds) are read through this instead, and anything that is not
/// exactly decodable is a 400 naming the parameter.
struct RawQuery {
    private var parameters: [(name: String, value: [UInt8]?)] = []

    /// Splits `query` (the part after `?`, undecoded) into its parameters; `+` is kept as is,
    /// as Hummingbird keeps it.
    init(_ query: String?) {
        guard let query, !query.isEmpty else { return }
        for part in query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let pieces = part.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = PercentEncoding.decode(Substring(pieces[0]).utf8).flatMap { String(validating: $0, as: UTF8.self) } ?? ""
            let value = pieces.count > 1 ? PercentEncoding.decode(Substring(pieces[1]).utf8) : []
            self.parameters.append((name, value))
        }
    }

    /// The value of the first parameter called `name` as an ``ObjectName``, nil when absent.
    ///
    /// - Throws: a 400 `invalid_<name>` when its escapes are malformed or its bytes are not UTF-8.
    func name(_ name: String) throws(APIError) -> ObjectName? {
        guard let parameter = self.parameters.first(where: { UTF8Bytes.equal($0.name, name) }) else { return nil }
        guard let bytes = parameter.value else {
            throw .badRequest("invalid_\(name)", "\(name) has a malformed percent-escape; '%' must be followed by two hex digits")
        }
        guard let value = ObjectName(validatingUTF8: bytes) else {
            throw .badRequest("invalid_\(name)", "\(name) must be valid UTF-8 once percent-decoded")
        }
        return value
    }
}
