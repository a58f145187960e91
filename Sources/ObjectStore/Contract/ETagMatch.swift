/// The value of an `If-None-Match` precondition: any current object, or one of a list of tags.
public enum ETagMatch: Sendable, Equatable {
    case any
    case oneOf([ETag])

    /// Whether an object with `etag` satisfies this match.
    public func matches(_ etag: ETag) -> Bool {
        switch self {
        case .any: true
        case .oneOf(let tags): tags.contains(etag)
        }
    }
}
