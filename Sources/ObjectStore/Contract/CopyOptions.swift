/// Options of ``ObjectStore/copy(from:to:options:)``.
public struct CopyOptions: Sendable, Equatable {
    /// Copy only if the source currently has this ETag.
    public var sourceIfMatch: ETag?
    /// When set, the copy gets these attributes instead of the source's.
    public var replacing: ObjectAttributes?

    public init(sourceIfMatch: ETag? = nil, replacing: ObjectAttributes? = nil) {
        self.sourceIfMatch = sourceIfMatch
        self.replacing = replacing
    }
}
