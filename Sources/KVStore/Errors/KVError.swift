import ObjectStore

/// A failure of a key-value operation, in the domain's terms.
///
/// The ``message`` is for clients: what failed and what to do, never how the backend said it.
/// What the backend said (host names, library errors, S3's own codes) is the ``detail``, for the
/// operator's log; neither ever contains credentials.
public struct KVError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case notFound, versionNotFound, conditionFailed, conflict, notModified, invalidRequest, backendUnavailable
            case outcomeUnknown, backendFailure, overloaded, timedOut, insufficientStorage, rangeNotSatisfiable
        }
        private let base: Base

        /// No value is stored under the key.
        public static let notFound = Code(base: .notFound)
        /// The key exists (or existed) but not in the version asked for.
        public static let versionNotFound = Code(base: .versionNotFound)
        /// A conditional request's condition does not hold.
        public static let conditionFailed = Code(base: .conditionFailed)
        /// Other writers kept changing the key; the write was not made and may be retried.
        public static let conflict = Code(base: .conflict)
        /// A conditional read matched the current value's tag.
        public static let notModified = Code(base: .notModified)
        /// The request cannot be carried out as given.
        public static let invalidRequest = Code(base: .invalidRequest)
        /// The backend cannot be reached or is overloaded; retrying later may succeed.
        public static let backendUnavailable = Code(base: .backendUnavailable)
        /// The backend lost the answer to a conditional write or delete and what became of it
        /// cannot be established (the evidence was overwritten): it may or may not have been
        /// applied. Read the key before retrying, so a compare-and-swap is not applied twice.
        public static let outcomeUnknown = Code(base: .outcomeUnknown)
        /// This instance is at a limit (too many writers queued for one key): nothing was done.
        public static let overloaded = Code(base: .overloaded)
        /// The request's deadline passed before it could be carried out: nothing was written.
        public static let timedOut = Code(base: .timedOut)
        /// The backend has no room for the write; nothing was written. Reads still work.
        public static let insufficientStorage = Code(base: .insufficientStorage)
        /// A read's range holds none of the value (HTTP 416).
        public static let rangeNotSatisfiable = Code(base: .rangeNotSatisfiable)
        /// The backend failed in a way a retry will not fix (for example, access denied).
        public static let backendFailure = Code(base: .backendFailure)

        public var description: String { self.base.rawValue }
    }

    public let code: Code
    /// What a client is told.
    public let message: String
    /// What the backend said, for logs only.
    public let detail: String?

    public init(_ code: Code, _ message: String, detail: String? = nil) {
        self.code = code
        self.message = message
        self.detail = detail
    }

    public var description: String {
        self.detail.map { "\(self.code): \(self.message) (\($0))" } ?? "\(self.code): \(self.message)"
    }

    static func notFound(_ key: Key) -> KVError { .init(.notFound, "no value is stored under key '\(key)'") }
    static func conditionFailed(_ key: Key) -> KVError {
        .init(.conditionFailed, "the precondition on key '\(key)' does not hold")
    }

    static func notModified(_ key: Key) -> KVError { .init(.notModified, "key '\(key)' is not modified") }
    static func versionNotFound(_ key: Key, _ version: Int64) -> KVError {
        .init(.versionNotFound, "key '\(key)' has no version \(version) (it never existed, expired or was pruned from history)")
    }
    static func conflict(_ key: Key, attempts: Int) -> KVError {
        .init(.conflict, "key '\(key)' changed under \(attempts) consecutive attempts to write it; retry")
    }

    static func timedOut(_ key: Key) -> KVError {
        .init(.timedOut, "the request's deadline passed before the write of key '\(key)' could be made; nothing was written")
    }

    static func overloaded(_ key: Key) -> KVError {
        .init(.overloaded, "too many writes of key '\(key)' are waiting on this instance; nothing was written, retry")
    }

    static func outcomeUnknown(_ key: Key, _ error: any Error) -> KVError {
        .init(
            .outcomeUnknown,
            "the storage backend did not confirm whether the write of key '\(key)' was applied, and it cannot be established "
                + "now; read the key before retrying",
            detail: "\(error)"
        )
    }

    /// Translates a backend error raised while working on many keys (a listing or a batch),
    /// where no answer means "this key is absent".
    static func from(_ error: any Error) -> any Error {
        guard let error = error as? ObjectStoreError else { return error }
        switch error.code {
        case .invalidArgument: return KVError(.invalidRequest, error.message)
        case .unavailable:
            return KVError(.backendUnavailable, "the storage backend is unavailable; nothing was written, retry later", detail: error.message)
        case .outcomeUnknown:
            return KVError(
                .outcomeUnknown, "the storage backend did not confirm whether the request was applied; read before retrying",
                detail: error.message
            )
        case .accessDenied:
            return KVError(.backendFailure, "the storage backend refused s3kv's credentials", detail: error.message)
        case .insufficientStorage:
            return KVError(.insufficientStorage, "the storage backend has no room for the write; nothing was written", detail: error.message)
        default: return KVError(.backendFailure, "the storage backend failed the request", detail: error.message)
        }
    }

    /// Translates a backend error raised while working on `key`.
    static func from(_ error: any Error, key: Key) -> any Error {
        guard let error = error as? ObjectStoreError else { return error }
        switch error.code {
        case .notFound: return KVError.notFound(key)
        case .preconditionFailed: return KVError.conditionFailed(key)
        case .notModified: return KVError.notModified(key)
        default: return from(error)
        }
    }
}
