/// A run of bytes of an object, both ends included, as an HTTP `Range: bytes=first-last` names it.
public struct ByteRange: Sendable, Hashable, CustomStringConvertible {
    public let first: Int
    public let last: Int

    /// - Precondition: `0 <= first <= last`.
    public init(first: Int, last: Int) {
        precondition(first >= 0 && first <= last, "an empty or negative byte range")
        self.first = first
        self.last = last
    }

    public var count: Int { self.last - self.first + 1 }

    /// The header value, `bytes=first-last`.
    public var header: String { "bytes=\(self.first)-\(self.last)" }

    public var description: String { "\(self.first)-\(self.last)" }
}
