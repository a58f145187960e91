/// The attributes stored alongside an object's body.
public struct ObjectAttributes: Sendable, Equatable {
    public var contentType: String
    public var metadata: [String: String]

    public init(contentType: String, metadata: [String: String]) {
        self.contentType = contentType
        self.metadata = metadata
    }
}
