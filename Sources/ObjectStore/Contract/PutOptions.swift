/// How an object is stored by ``ObjectStore/put(_:body:options:)``.
public struct PutOptions: Sendable, Equatable {
    /// The object's Content-Type.
    public var contentType: String
    /// User metadata (`x-amz-meta-*`); names are lower-cased by S3, so use lower-case names.
    public var metadata: [String: String]
    /// The precondition the write depends on.
    public var condition: WriteCondition

    public init(
        contentType: String = "application/octet-stream",
        metadata: [String: String] = [:],
        condition: WriteCondition = .none
    ) {
        self.contentType = contentType
        self.metadata = metadata
        self.condition = condition
    }
}
