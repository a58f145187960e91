/// Limits S3 imposes, checked by every backend the same way, so a request one backend refuses is
/// refused by all, before anything is sent or stored.
public enum ObjectLimits {
    /// User metadata: names plus values, in UTF-8 bytes.
    public static let maximumMetadataBytes = 2048

    /// Throws ``ObjectStoreError/Code/invalidArgument`` for metadata S3 would reject: over
    /// ``maximumMetadataBytes``, or a name or value that cannot travel as an HTTP header.
    public static func checkMetadata(_ metadata: [String: String]) throws(ObjectStoreError) {
        let size = metadata.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        if size > maximumMetadataBytes {
            throw ObjectStoreError(.invalidArgument, "user metadata is \(size) bytes; the limit is \(maximumMetadataBytes)")
        }
        for (name, value) in metadata {
            guard !name.isEmpty, name.utf8.allSatisfy(isTokenByte) else {
                throw ObjectStoreError(.invalidArgument, "the metadata name '\(name)' is not an HTTP token")
            }
            guard isHeaderValue(value) else {
                throw ObjectStoreError(.invalidArgument, "the metadata value of '\(name)' must be printable ASCII")
            }
        }
    }

    /// Throws ``ObjectStoreError/Code/invalidArgument`` for a Content-Type that cannot be sent
    /// as a header and stored unchanged: control characters or bytes outside printable ASCII.
    public static func checkContentType(_ contentType: String) throws(ObjectStoreError) {
        guard isHeaderValue(contentType) else {
            throw ObjectStoreError(.invalidArgument, "the content type must be printable ASCII without control characters")
        }
    }

    /// Throws ``ObjectStoreError/Code/invalidArgument`` for more names than one DeleteObjects takes.
    public static func checkDeleteMany(_ names: [ObjectName]) throws(ObjectStoreError) {
        if names.count > DeleteManyResult.maximumKeys {
            throw ObjectStoreError(.invalidArgument, "\(names.count) keys in one delete; the limit is \(DeleteManyResult.maximumKeys)")
        }
    }

    /// Throws ``ObjectStoreError/Code/invalidArgument`` for an empty name, which no store accepts.
    public static func checkName(_ name: ObjectName) throws(ObjectStoreError) {
        if name.isEmpty { throw ObjectStoreError(.invalidArgument, "an object name must not be empty") }
    }

    /// Printable ASCII, space and tab: what every S3 implementation stores and signs unchanged.
    public static func isHeaderValue(_ value: String) -> Bool {
        value.utf8.allSatisfy { $0 == 0x09 || (0x20...0x7E).contains($0) }
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
