import ObjectStore

/// Which Content-Type a value is stored with.
///
/// curl's `-d` and `--data-binary` send `application/x-www-form-urlencoded` unless told
/// otherwise, so storing that type would label most values written from a shell as form data.
/// s3kv treats it like a missing header: the value is stored as `application/octet-stream`.
/// Every other type is stored and served back as sent.
enum ContentTypePolicy {
    /// The longest Content-Type that is stored.
    static let maximumLength = 256

    /// The type to store, or nil for the store's default.
    static func storedContentType(_ header: String?) throws(APIError) -> String? {
        guard let header = header?.trimmingSpaces, !header.isEmpty else { return nil }
        if header.utf8.count > maximumLength {
            throw .badRequest("content_type_too_long", "the Content-Type must be at most \(maximumLength) bytes")
        }
        // Stored as an object header and sent back as a response header, so it must be a value
        // every backend stores unchanged: printable ASCII, no control characters.
        guard ObjectLimits.isHeaderValue(header) else {
            throw .badRequest("invalid_content_type", "the Content-Type must be printable ASCII without control characters")
        }
        let mediaType = header.split(separator: ";", maxSplits: 1).first.map { $0.trimmingSpaces.lowercased() }
        if mediaType == "application/x-www-form-urlencoded" { return nil }
        return header
    }
}
