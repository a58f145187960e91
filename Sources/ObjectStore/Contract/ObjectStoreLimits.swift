/// What a backend can hold: the largest object it stores and can also return.
public struct ObjectStoreLimits: Sendable, Equatable {
    /// The largest body, in bytes, that a put accepts and a get returns (streamed, where
    /// ``streamsBodies``).
    public var maximumObjectBytes: Int
    /// Whether streamed bodies move in bounded memory (S3: in parts), rather than being
    /// collected whole before they are stored.
    public var streamsBodies: Bool

    public init(maximumObjectBytes: Int, streamsBodies: Bool = false) {
        self.maximumObjectBytes = maximumObjectBytes
        self.streamsBodies = streamsBodies
    }
}
