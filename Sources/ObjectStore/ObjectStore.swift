import NIOCore

/// The storage contract s3kv is built on: the subset of S3 the key-value layer needs, with S3's
/// semantics.
///
/// Every backend (in-memory, the embedded SQLite store, S3) behaves identically, down to which
/// condition fails with which error, so the layers above never ask which backend they run on.
/// The shared conformance suite pins these semantics.
///
/// Keys are object names: non-empty UTF-8 strings. Validation of the key-value layer's stricter
/// rules happens above this layer.
public protocol ObjectStore: Sendable {
    /// Stores `body` under `key`, replacing any current object.
    ///
    /// - Returns: the ETag of the stored object.
    /// - Throws: ``ObjectStoreError/Code/preconditionFailed`` when `options.condition` does not
    ///   hold; ``ObjectStoreError/Code/notFound`` for `.ifMatch` on a missing key (as S3 does).
    func put(_ key: String, body: ByteBuffer, options: PutOptions) async throws -> ETag

    /// Reads an object with its body.
    ///
    /// - Throws: ``ObjectStoreError/Code/notFound`` when missing;
    ///   ``ObjectStoreError/Code/notModified`` when `ifNoneMatch` matches the current ETag.
    func get(_ key: String, ifNoneMatch: ETagMatch?) async throws -> StoredObject

    /// Reads an object's attributes without its body. Same errors as ``get(_:ifNoneMatch:)``.
    func head(_ key: String, ifNoneMatch: ETagMatch?) async throws -> ObjectInfo

    /// Deletes an object. Deleting a missing object succeeds, as on S3, unless `ifMatch` is
    /// given: then a missing object is ``ObjectStoreError/Code/notFound`` and a different
    /// ETag is ``ObjectStoreError/Code/preconditionFailed``.
    func delete(_ key: String, ifMatch: ETag?) async throws

    /// Copies `source` to `destination` server-side, keeping content type and metadata unless
    /// `options.replacing` is given.
    ///
    /// `sourceIfMatch` is checked by the local backends; some S3 implementations ignore it
    /// (moto does), so callers that need the guarantee must read and put instead.
    func copy(from source: String, to destination: String, options: CopyOptions) async throws -> ETag

    /// One page of a listing in ascending byte order of the UTF-8 keys.
    func list(_ request: ListRequest) async throws -> ListPage

    /// Deletes up to ``DeleteManyResult/maximumKeys`` objects in one call. Keys that did not
    /// exist are reported as deleted, as on S3.
    func deleteMany(_ keys: [String]) async throws -> DeleteManyResult

    /// One cheap request that proves the store can serve: the bucket answers on S3, the
    /// database answers a query on the embedded store. Readiness checks poll it.
    func probe() async throws
}

/// How an object is stored by ``ObjectStore/put(_:body:options:)``.
public struct PutOptions: Sendable, Equatable {
    /// The object's Content-Type.
    public var contentType: String
    /// User metadata (`x-amz-meta-*`); names are lower-cased by S3, so use lower-case names.
    public var metadata: [String: String]
    /// The precondition the write depends on.
    public var condition: WriteCondition

    public init(
        contentType: String = "application/octet-stream",
        metadata: [String: String] = [:],
        condition: WriteCondition = .none
    ) {
        self.contentType = contentType
        self.metadata = metadata
        self.condition = condition
    }
}

/// A precondition on the current state of the object a write replaces.
public enum WriteCondition: Sendable, Equatable {
    /// Write unconditionally.
    case none
    /// Write only when no object exists (`If-None-Match: *`).
    case ifNoneExists
    /// Write only when the current object has this ETag (`If-Match`): compare-and-swap.
    case ifMatch(ETag)
}

/// Options of ``ObjectStore/copy(from:to:options:)``.
public struct CopyOptions: Sendable, Equatable {
    /// Copy only if the source currently has this ETag.
    public var sourceIfMatch: ETag?
    /// When set, the copy gets these attributes instead of the source's.
    public var replacing: ObjectAttributes?

    public init(sourceIfMatch: ETag? = nil, replacing: ObjectAttributes? = nil) {
        self.sourceIfMatch = sourceIfMatch
        self.replacing = replacing
    }
}

/// The attributes stored alongside an object's body.
public struct ObjectAttributes: Sendable, Equatable {
    public var contentType: String
    public var metadata: [String: String]

    public init(contentType: String, metadata: [String: String]) {
        self.contentType = contentType
        self.metadata = metadata
    }
}
