public import NIOCore

/// The storage contract s3kv is built on: the subset of S3 the key-value layer needs, with S3's
/// semantics.
///
/// Every backend (in-memory, the embedded SQLite store, S3) behaves identically, down to which
/// condition fails with which error, so the layers above never ask which backend they run on.
/// The shared conformance suite pins these semantics.
///
/// Objects are named by ``ObjectName``: non-empty UTF-8, compared and ordered as bytes, as S3
/// does. Validation of the key-value layer's stricter rules happens above this layer.
public protocol ObjectStore: Sendable {
    /// What this backend can store and return; the layers above refuse anything larger before
    /// accepting it, so no acknowledged write is unreadable.
    var limits: ObjectStoreLimits { get }

    /// Stores `body` under `name`, replacing any current object.
    ///
    /// - Returns: the ETag of the stored object.
    /// - Throws: ``ObjectStoreError/Code/preconditionFailed`` when `options.condition` does not
    ///   hold; ``ObjectStoreError/Code/notFound`` for `.ifMatch` on a missing object (as S3 does);
    ///   ``ObjectStoreError/Code/outcomeUnknown`` when a conditional write may or may not have
    ///   been applied (the answer was lost).
    func put(_ name: ObjectName, body: ByteBuffer, options: PutOptions) async throws -> ETag

    /// Reads an object with its body.
    ///
    /// - Throws: ``ObjectStoreError/Code/notFound`` when missing;
    ///   ``ObjectStoreError/Code/notModified`` when `ifNoneMatch` matches the current ETag.
    func get(_ name: ObjectName, ifNoneMatch: ETagMatch?) async throws -> StoredObject

    /// Stores a body that may be a stream, read once, in bounded memory; same conditions and
    /// errors as ``put(_:body:options:)``. A stream that ends short of its declared length, or
    /// fails, stores nothing.
    func put(_ name: ObjectName, streaming body: ObjectBody, options: PutOptions) async throws -> ETag

    /// Reads an object with its body as a stream, all of it or `range`, with backpressure; same
    /// errors as ``get(_:ifNoneMatch:)``, and ``ObjectStoreError/Code/rangeNotSatisfiable`` for a
    /// range that starts past the end.
    func stream(_ name: ObjectName, ifNoneMatch: ETagMatch?, range: ByteRange?) async throws -> StreamedObject

    /// Reads an object's attributes without its body. Same errors as ``get(_:ifNoneMatch:)``.
    func head(_ name: ObjectName, ifNoneMatch: ETagMatch?) async throws -> ObjectInfo

    /// Deletes an object. Deleting a missing object succeeds, as on S3, unless `ifMatch` is
    /// given: then a missing object is ``ObjectStoreError/Code/notFound`` and a different
    /// ETag is ``ObjectStoreError/Code/preconditionFailed``; a conditional delete whose answer
    /// was lost is ``ObjectStoreError/Code/outcomeUnknown``.
    func delete(_ name: ObjectName, ifMatch: ETag?) async throws

    /// Copies `source` to `destination` server-side, keeping content type and metadata unless
    /// `options.replacing` is given.
    ///
    /// `sourceIfMatch` is checked by the local backends; some S3 implementations ignore it
    /// (moto does), so callers that need the guarantee must read and put instead.
    func copy(from source: ObjectName, to destination: ObjectName, options: CopyOptions) async throws -> ETag

    /// One page of a listing in ascending byte order of the names.
    func list(_ request: ListRequest) async throws -> ListPage

    /// Deletes up to ``DeleteManyResult/maximumKeys`` objects in one call. Names that did not
    /// exist are reported as deleted, as on S3.
    func deleteMany(_ names: [ObjectName]) async throws -> DeleteManyResult

    /// One cheap request that proves the store can serve: the bucket answers on S3, the
    /// database answers a query on the embedded store. Readiness checks poll it.
    func probe() async throws
}
