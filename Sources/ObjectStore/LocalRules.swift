import Foundation

/// The S3 rules the local backends enforce, in one place so both emulate S3 identically.
enum LocalRules {
    static func checkWrite(_ condition: WriteCondition, current: ETag?, key: String) throws {
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

    static func checkRead(_ ifNoneMatch: ETagMatch?, current: ETag, key: String) throws {
        if let ifNoneMatch, ifNoneMatch.matches(current) {
            throw ObjectStoreError.notModified(key)
        }
    }

    static func checkKey(_ key: String) throws {
        if key.isEmpty { throw ObjectStoreError(.invalidArgument, "an object name must not be empty") }
    }

    /// Timestamps are kept to the millisecond, the precision S3 listings report.
    static func truncatedToMilliseconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }
}
