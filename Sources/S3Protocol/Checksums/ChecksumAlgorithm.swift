import Crypto
import Foundation

/// The additional checksums S3 verifies and stores (`x-amz-checksum-*`), computed as a body
/// streams past. Values travel base64-encoded, of the big-endian digest.
public struct ChecksumAlgorithm: Sendable, Hashable, CustomStringConvertible {
    private enum Base: String, Sendable, Hashable, CaseIterable {
        case crc32 = "CRC32", crc32c = "CRC32C", crc64nvme = "CRC64NVME", sha1 = "SHA1", sha256 = "SHA256"
    }
    private let base: Base

    public static let crc32 = ChecksumAlgorithm(base: .crc32)
    public static let crc32c = ChecksumAlgorithm(base: .crc32c)
    public static let crc64nvme = ChecksumAlgorithm(base: .crc64nvme)
    public static let sha1 = ChecksumAlgorithm(base: .sha1)
    public static let sha256 = ChecksumAlgorithm(base: .sha256)

    public static let all: [ChecksumAlgorithm] = Base.allCases.map { ChecksumAlgorithm(base: $0) }

    /// The algorithm named as in `x-amz-checksum-algorithm` (any case).
    public init?(name: String) {
        guard let base = Base(rawValue: name.uppercased()) else { return nil }
        self.base = base
    }

    private init(base: Base) { self.base = base }

    /// The upper-case name, as in `x-amz-checksum-algorithm` and `ChecksumAlgorithm` elements.
    public var name: String { self.base.rawValue }
    /// The header that carries the value, e.g. `x-amz-checksum-crc32`.
    public var headerName: String { "x-amz-checksum-" + self.base.rawValue.lowercased() }
    public var description: String { self.name }

    /// A fresh running computation.
    public func makeHasher() -> ChecksumHasher { ChecksumHasher(algorithm: self.base.rawValue) }

    /// The base64 checksum of `bytes`.
    public func checksum(of bytes: some Sequence<UInt8>) -> String {
        var hasher = self.makeHasher()
        hasher.update(Array(bytes))
        return hasher.finalize()
    }
}

/// A checksum being computed over bytes as they arrive.
public struct ChecksumHasher {
    private enum State {
        case crc32(UInt32, table: CRCTables.Table32)
        case crc64(UInt64)
        case sha1(Insecure.SHA1)
        case sha256(SHA256)
    }
    private var state: State

    fileprivate init(algorithm: String) {
        switch algorithm {
        case "CRC32": self.state = .crc32(0xFFFF_FFFF, table: .ieee)
        case "CRC32C": self.state = .crc32(0xFFFF_FFFF, table: .castagnoli)
        case "CRC64NVME": self.state = .crc64(0xFFFF_FFFF_FFFF_FFFF)
        case "SHA1": self.state = .sha1(Insecure.SHA1())
        default: self.state = .sha256(SHA256())
        }
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch self.state {
        case .crc32(var crc, let table):
            let entries = table == .ieee ? CRCTables.ieee : CRCTables.castagnoli
            for byte in bytes { crc = entries[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
            self.state = .crc32(crc, table: table)
        case .crc64(var crc):
            let entries = CRCTables.nvme
            for byte in bytes { crc = entries[Int((crc ^ UInt64(byte)) & 0xFF)] ^ (crc >> 8) }
            self.state = .crc64(crc)
        case .sha1(var hash):
            hash.update(bufferPointer: bytes)
            self.state = .sha1(hash)
        case .sha256(var hash):
            hash.update(bufferPointer: bytes)
            self.state = .sha256(hash)
        }
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { self.update($0) }
    }

    /// The base64 of the digest.
    public func finalize() -> String {
        let digest: [UInt8]
        switch self.state {
        case .crc32(let crc, _):
            let value = ~crc
            digest = [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        case .crc64(let crc):
            let value = ~crc
            digest = (0..<8).reversed().map { UInt8(value >> (UInt64($0) * 8) & 0xFF) }
        case .sha1(let hash): digest = Array(hash.finalize())
        case .sha256(let hash): digest = Array(hash.finalize())
        }
        return Data(digest).base64EncodedString()
    }
}

/// Lookup tables of the reflected CRCs, built once.
enum CRCTables {
    enum Table32: Sendable { case ieee, castagnoli }

    static let ieee = table32(polynomial: 0xEDB8_8320)
    static let castagnoli = table32(polynomial: 0x82F6_3B78)
    static let nvme: [UInt64] = (0..<256).map { index in
        var crc = UInt64(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x9A6C_9329_AC4B_C9B5 : crc >> 1 }
        return crc
    }

    private static func table32(polynomial: UInt32) -> [UInt32] {
        (0..<256).map { index in
            var crc = UInt32(index)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ polynomial : crc >> 1 }
            return crc
        }
    }
}
