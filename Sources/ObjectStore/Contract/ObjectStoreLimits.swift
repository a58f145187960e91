/// What a backend can hold: the largest object it stores and can also return.
public struct ObjectStoreLimits: Sendable, Equatable {
    /// The largest body, in bytes, that a put accepts and a get returns whole.
    public var maximumObjectBytes: Int

    public init(maximumObjectBytes: Int) {
        self.maximumObjectBytes = maximumObjectBytes
    }
}
