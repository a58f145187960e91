/// What a token may do. Each scope includes the ones before it.
///
/// - `read`: GET and HEAD of values, listings, the version history.
/// - `write`: also PUT, DELETE and batches.
/// - `admin`: everything, `/metrics` included when it is protected.
public enum AccessScope: String, Sendable, CaseIterable, Comparable, Codable {
    case read
    case write
    case admin

    private var rank: Int {
        switch self {
        case .read: 0
        case .write: 1
        case .admin: 2
        }
    }

    public static func < (lhs: AccessScope, rhs: AccessScope) -> Bool { lhs.rank < rhs.rank }
}
