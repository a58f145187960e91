import ObjectStore
import WireFormat

/// The identity of one write: 128 random bits, different for every write ever made.
///
/// An S3 ETag is the MD5 of the bytes, so two writes of the same bytes share it, and nothing
/// that compares ETags (`If-Match`, a 304, a conditional delete) can tell them apart. s3kv stores
/// each value followed by its write's id (see ``ValueEncoding``), which makes the object's bytes,
/// and so its ETag, unique to the write. The id is also kept in the object's metadata, so a
/// writer whose answer was lost can read the object and recognise its own write.
public struct WriteID: Sendable, Hashable, CustomStringConvertible {
    /// The size of an id in bytes.
    public static let byteCount = 16

    let high: UInt64
    let low: UInt64

    /// A new id from the system's random number generator.
    public init() {
        var generator = SystemRandomNumberGenerator()
        self.init(high: generator.next(), low: generator.next())
    }

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Reads an id from its 16 big-endian bytes.
    init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.init(high: high, low: low)
    }

    /// Reads an id from its 32 lower-case hex digits, as metadata holds it.
    init?(hex: String) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    /// The 16 big-endian bytes.
    var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: self.high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: self.low >> (56 - 8 * $0)) }
    }

    /// 32 lower-case hex digits.
    public var hex: String { Hex.encode(self.bytes) }

    /// The write's entity tag on a store that takes one (``ObjectStoreLimits/acceptsEntityTags``):
    /// as unique to the write as the MD5 of its bytes, which end with the id, and free to compute,
    /// where the MD5 of a large value costs a core for seconds.
    var entityTag: ETag { ETag("\"\(self.hex)\"") }

    public var description: String { self.hex }
}
