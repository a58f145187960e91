/// Limits S3 imposes, checked by every backend the same way.
public enum ObjectLimits {
    /// User metadata: names plus values, in UTF-8 bytes.
    public static let maximumMetadataBytes = 2048

    /// Throws ``ObjectStoreError/Code/invalidArgument`` for metadata S3 would reject.
    public static func checkMetadata(_ metadata: [String: String]) throws(ObjectStoreError) {
        let size = metadata.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        if size > maximumMetadataBytes {
            throw ObjectStoreError(.invalidArgument, "user metadata is \(size) bytes; the limit is \(maximumMetadataBytes)")
        }
    }

    /// Throws ``ObjectStoreError/Code/invalidArgument`` for more keys than one DeleteObjects takes.
    public static func checkDeleteMany(_ keys: [String]) throws(ObjectStoreError) {
        if keys.count > DeleteManyResult.maximumKeys {
            throw ObjectStoreError(.invalidArgument, "\(keys.count) keys in one delete; the limit is \(DeleteManyResult.maximumKeys)")
        }
    }
}
