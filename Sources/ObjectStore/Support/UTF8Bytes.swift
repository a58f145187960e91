import Foundation

/// Byte-wise operations on the UTF-8 of strings, for the types whose identity is their bytes
/// (object names here, keys in the layers above).
public enum UTF8Bytes {
    /// Whether `lhs` and `rhs` have the same UTF-8 bytes.
    public static func equal(_ lhs: String, _ rhs: String) -> Bool {
        let fast = lhs.utf8.withContiguousStorageIfAvailable { left in
            rhs.utf8.withContiguousStorageIfAvailable { right in
                left.count == right.count && (left.isEmpty || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0)
            }
        }
        return (fast ?? nil) ?? lhs.utf8.elementsEqual(rhs.utf8)
    }

    /// Feeds `string`'s UTF-8 bytes to `hasher`, so equal bytes hash alike whatever their
    /// canonical equivalents.
    public static func hash(_ string: String, into hasher: inout Hasher) {
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        if done == nil {
            for byte in string.utf8 { hasher.combine(byte) }
        }
        hasher.combine(string.utf8.count)
    }

    /// Whether `string`'s bytes begin with `prefix`'s bytes.
    public static func hasPrefix(_ string: String, _ prefix: String) -> Bool {
        string.utf8.count >= prefix.utf8.count && string.utf8.prefix(prefix.utf8.count).elementsEqual(prefix.utf8)
    }
}
