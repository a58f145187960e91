public import NIOCore

/// An object with its body, as GetObject returns it.
public struct StoredObject: Sendable {
    public var info: ObjectInfo
    public var body: ByteBuffer

    public init(info: ObjectInfo, body: ByteBuffer) {
        self.info = info
        self.body = body
    }
}
