/// How an object is stored by ``ObjectStore/put(_:body:options:)``.
public struct PutOptions: Sendable, Equatable {
    /// The object's Content-Type.
    public var contentType: String
    /// User metadata (`x-amz-meta-*`); names are lower-cased by S3, so use lower-case names.
    public var metadata: [String: String]
    /// The precondition the write depends on.
    public var condition: WriteCondition
    /// The entity tag to store instead of the one the store would compute from the body: for
    /// a writer whose tags follow rules of its own, as the S3 server's multipart form
    /// (`"<MD5 of the parts' MD5s>-<parts>"`). Only stores that keep tags themselves (memory,
    /// embedded) take one; a store whose backend computes tags (S3) refuses the write rather
    /// than keep a different tag than it was given.
    public var entityTag: ETag?

    public init(
        contentType: String = "application/octet-stream",
        metadata: [String: String] = [:],
        condition: WriteCondition = .none,
        entityTag: ETag? = nil
    ) {
        self.contentType = contentType
        self.metadata = metadata
        self.condition = condition
        self.entityTag = entityTag
    }
}
