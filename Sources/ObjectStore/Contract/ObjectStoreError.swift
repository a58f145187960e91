/// A failure of an ``ObjectStore`` operation, classified the way the layers above need it.
public struct ObjectStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure. New codes may be added; switch with a default.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case notFound, preconditionFailed, notModified, invalidArgument
            case accessDenied, unavailable, outcomeUnknown, insufficientStorage, rangeNotSatisfiable, backendFailure
        }
        private let base: Base

        /// The object (or bucket) does not exist.
        public static let notFound = Code(base: .notFound)
        /// A write or delete condition did not hold (HTTP 412).
        public static let preconditionFailed = Code(base: .preconditionFailed)
        /// A read's `If-None-Match` matched (HTTP 304).
        public static let notModified = Code(base: .notModified)
        /// The request itself is invalid: a malformed token, too many keys, metadata too large,
        /// a header value that cannot be sent. Retrying it unchanged cannot succeed.
        public static let invalidArgument = Code(base: .invalidArgument)
        /// The backend refused our credentials or permissions.
        public static let accessDenied = Code(base: .accessDenied)
        /// The backend is unreachable, overloaded or timed out, and the request was not applied;
        /// it may succeed later.
        public static let unavailable = Code(base: .unavailable)
        /// A conditional write or delete was sent but its answer never came (a timeout, a dropped
        /// connection, a server error mid-way): it may or may not have been applied. Resending it
        /// blindly could meet its own effect and fail its condition, so the caller finds out
        /// what happened by reading the object instead.
        public static let outcomeUnknown = Code(base: .outcomeUnknown)
        /// The backend has no room for the write (a full disk); reads still work, and writes do
        /// again once space is freed.
        public static let insufficientStorage = Code(base: .insufficientStorage)
        /// A read's range starts past the end of the object (HTTP 416).
        public static let rangeNotSatisfiable = Code(base: .rangeNotSatisfiable)
        /// Any other backend failure.
        public static let backendFailure = Code(base: .backendFailure)

        public var description: String { self.base.rawValue }
    }

    public let code: Code
    /// A human-readable explanation, safe to show to clients (never contains credentials).
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }

    public static func notFound(_ name: ObjectName) -> Self { .init(.notFound, "no object named '\(name)'") }
    public static func preconditionFailed(_ name: ObjectName) -> Self {
        .init(.preconditionFailed, "the condition on '\(name)' does not hold")
    }
    public static func notModified(_ name: ObjectName) -> Self { .init(.notModified, "'\(name)' is not modified") }
}
