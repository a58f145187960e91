import ObjectStore
import Foundation

/// The S3 rules the local backends enforce, in one place so both emulate S3 identically.
enum LocalRules {
    static func checkWrite(_ condition: WriteCondition, current: ETag?, key: ObjectName) throws {
        switch (condition, current) {
        case (.none, _), (.ifNoneExists, nil):
            return
        case (.ifNoneExists, .some):
            throw ObjectStoreError.preconditionFailed(key)
        case (.ifMatch, nil):
            throw ObjectStoreError.notFound(key)
        case (.ifMatch(let expected), .some(let actual)):
            if expected != actual { throw ObjectStoreError.preconditionFailed(key) }
        }
    }

    static func checkRead(_ ifNoneMatch: ETagMatch?, current: ETag, key: ObjectName) throws {
        if let ifNoneMatch, ifNoneMatch.matches(current) {
            throw ObjectStoreError.notModified(key)
        }
    }

    /// The checks every put makes before storing anything, as S3 refuses these up front.
    static func checkPut(_ name: ObjectName, options: PutOptions) throws {
        try ObjectLimits.checkName(name)
        try ObjectLimits.checkContentType(options.contentType)
        try ObjectLimits.checkMetadata(options.metadata)
    }

    /// The checks of a copy's destination and replaced attributes.
    static func checkCopy(to destination: ObjectName, options: CopyOptions) throws {
        try ObjectLimits.checkName(destination)
        if let replacing = options.replacing {
            try ObjectLimits.checkContentType(replacing.contentType)
            try ObjectLimits.checkMetadata(replacing.metadata)
        }
    }

    /// Timestamps are kept to the millisecond, the precision S3 listings report.
    static func truncatedToMilliseconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }
}

extension LocalRules {
    /// Refuses a body larger than the store's limit, as S3 refuses one over 5 GiB.
    static func checkSize(_ size: Int, limits: ObjectStoreLimits) throws {
        if size > limits.maximumObjectBytes {
            throw ObjectStoreError(.invalidArgument, "the body is \(size) bytes; this store holds at most \(limits.maximumObjectBytes)")
        }
    }
}
