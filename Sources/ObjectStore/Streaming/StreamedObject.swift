/// An object whose body arrives as a stream: all of it, or the range asked for.
public struct StreamedObject: Sendable {
    /// The whole object's attributes; `size` is the whole object's.
    public var info: ObjectInfo
    /// The bytes of ``range``, or of the whole object.
    public var body: ObjectBody
    /// The range the body holds, or nil for the whole object.
    public var range: ByteRange?

    public init(info: ObjectInfo, body: ObjectBody, range: ByteRange?) {
        self.info = info
        self.body = body
        self.range = range
    }
}
