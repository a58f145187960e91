import ObjectStore
import S3Protocol

/// S3's errors as the server answers them, and the storage contract's errors in S3's terms.
enum S3ServerErrors {
    static func noSuchBucket(_ name: String) -> S3Error {
        S3Error(code: "NoSuchBucket", message: "The specified bucket does not exist", status: 404)
    }

    static func noSuchKey() -> S3Error { S3Error(code: "NoSuchKey", message: "The specified key does not exist.", status: 404) }

    static func notImplemented(_ what: String) -> S3Error {
        S3Error(code: "NotImplemented", message: "\(what) is not implemented by this server", status: 501)
    }

    static func invalidArgument(_ message: String) -> S3Error { S3Error(code: "InvalidArgument", message: message, status: 400) }

    static let preconditionFailed = S3Error(
        code: "PreconditionFailed", message: "At least one of the pre-conditions you specified did not hold", status: 412
    )

    /// A storage failure in S3's terms; an ``S3Error`` passes through.
    static func from(_ error: any Error) -> S3Error {
        if let error = error as? S3Error { return error }
        guard let error = error as? ObjectStoreError else {
            return S3Error(code: "InternalError", message: "We encountered an internal error. Please try again.", status: 500)
        }
        switch error.code {
        case .notFound: return noSuchKey()
        case .preconditionFailed: return preconditionFailed
        case .notModified: return S3Error(code: "NotModified", message: "Not Modified", status: 304)
        case .invalidArgument: return invalidArgument(error.message)
        case .rangeNotSatisfiable: return S3Error(code: "InvalidRange", message: "The requested range is not satisfiable", status: 416)
        case .insufficientStorage:
            return S3Error(code: "XMinioStorageFull", message: "Storage backend has reached its minimum free drive threshold.", status: 507)
        case .unavailable: return S3Error(code: "ServiceUnavailable", message: "Please reduce your request rate.", status: 503)
        default: return S3Error(code: "InternalError", message: "We encountered an internal error. Please try again.", status: 500)
        }
    }
}
