/// The outcome of ``ObjectStore/deleteMany(_:)``.
public struct DeleteManyResult: Sendable, Equatable {
    /// S3's limit of keys in one DeleteObjects request.
    public static let maximumKeys = 1000

    /// An object that could not be deleted, with the backend's reason.
    public struct Failure: Sendable, Equatable {
        public var name: ObjectName
        public var code: String
        public var message: String

        public init(name: ObjectName, code: String, message: String) {
            self.name = name
            self.code = code
            self.message = message
        }
    }

    public var deleted: [ObjectName]
    public var failed: [Failure]

    public init(deleted: [ObjectName], failed: [Failure] = []) {
        self.deleted = deleted
        self.failed = failed
    }
}
