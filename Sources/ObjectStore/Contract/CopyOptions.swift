/// Options of ``ObjectStore/copy(from:to:options:)``.
public struct CopyOptions: Sendable, Equatable {
    /// Copy only if the source currently has this ETag.
    public var sourceIfMatch: ETag?
    /// When set, the copy gets these attributes instead of the source's.
    public var replacing: ObjectAttributes?
    /// The source's size in bytes, when the caller knows it: a backend that copies large objects
    /// another way (S3, in parts above CopyObject's 5 GiB) then need not ask for it.
    public var sourceSize: Int?

    public init(sourceIfMatch: ETag? = nil, replacing: ObjectAttributes? = nil, sourceSize: Int? = nil) {
        self.sourceIfMatch = sourceIfMatch
        self.replacing = replacing
        self.sourceSize = sourceSize
    }
}
