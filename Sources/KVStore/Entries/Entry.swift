public import NIOCore

/// A stored value with its attributes.
public struct Entry: Sendable {
    public var info: EntryInfo
    public var value: ByteBuffer
}
