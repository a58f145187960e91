/// How batch bodies are buffered, for configurations that must make room for them.
public enum BatchBuffering {
    /// What a batch body takes in memory, as a multiple of its size, while it is decoded and
    /// written: the JSON tree, the decoded values and the body itself.
    public static let expansion = 3
}
