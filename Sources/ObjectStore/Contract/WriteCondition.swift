/// A precondition on the current state of the object a write replaces.
public enum WriteCondition: Sendable, Equatable {
    /// Write unconditionally.
    case none
    /// Write only when no object exists (`If-None-Match: *`).
    case ifNoneExists
    /// Write only when the current object has this ETag (`If-Match`): compare-and-swap.
    case ifMatch(ETag)
}
