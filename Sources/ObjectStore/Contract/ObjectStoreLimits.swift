/// What a backend can hold: the largest object it stores and can also return.
public struct ObjectStoreLimits: Sendable, Equatable {
    /// The largest body, in bytes, that a put accepts and a get returns (streamed, where
    /// ``streamsBodies``).
    public var maximumObjectBytes: Int
    /// Whether streamed bodies move in bounded memory (S3: in parts), rather than being
    /// collected whole before they are stored.
    public var streamsBodies: Bool
    /// The most memory one streamed put holds at once (S3: part size × parts in flight), so a
    /// server can reserve it before it starts; 0 for a backend that does not stream.
    public var streamBufferBytes: Int
    /// Whether a put may name the entity tag to keep (``PutOptions/entityTag``) instead of the
    /// MD5 the store would compute: true where the store keeps tags itself, so a writer with a
    /// tag of its own spares the store hashing every byte; false where the backend computes them.
    public var acceptsEntityTags: Bool

    public init(maximumObjectBytes: Int, streamsBodies: Bool = false, streamBufferBytes: Int = 0, acceptsEntityTags: Bool = false) {
        self.maximumObjectBytes = maximumObjectBytes
        self.streamsBodies = streamsBodies
        self.streamBufferBytes = streamsBodies ? streamBufferBytes : 0
        self.acceptsEntityTags = acceptsEntityTags
    }
}
