/// How request bodies are buffered, for configurations that must make room for them.
public enum BodyBuffering {
    /// What a value takes in memory while it is stored, as a multiple of its size: the request
    /// body, the stored form (value and write id) and the backend's own copy.
    public static let valueExpansion = 3

    /// What a batch body takes in memory, as a multiple of its size, while it is decoded and
    /// written: the JSON tree, the decoded values and the body itself.
    public static let batchExpansion = 3
}
