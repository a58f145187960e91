/// Where the key-value store keeps things in its object store.
///
/// ```
/// kv/<key>    the current value of <key>
/// ```
/// Object names keep the key readable and in key order, so a listing of keys is a listing of
/// objects under `kv/`. A deployment-wide prefix (`S3_PREFIX`) is applied by the backend, below.
public enum BucketLayout {
    /// The prefix of current values.
    public static let valuesPrefix = "kv/"

    /// The object that holds the current value of `key`.
    public static func valueObject(for key: Key) -> String {
        valuesPrefix + key.rawValue
    }
}
