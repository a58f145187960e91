public import Foundation

/// An instant as milliseconds since 1970, the resolution expiry instants are stored in.
public struct UnixMilliseconds: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let value: Int64

    public init(_ value: Int64) {
        self.value = value
    }

    public init(_ date: Date) {
        self.value = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    public var date: Date { Date(timeIntervalSince1970: Double(self.value) / 1000) }

    public func adding(_ ttl: TimeToLive) -> UnixMilliseconds { UnixMilliseconds(self.value + ttl.milliseconds) }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }

    public var description: String { String(self.value) }
}
