public import ObjectStore
import Foundation
import GRDB
import NIOCore

/// The embedded store's streaming half: bodies larger than ``SQLiteObjectStore/inlineBodyBytes``
/// move between the client and a file beside the database in bounded memory.
extension SQLiteObjectStore {
    /// A stored body: a database row's bytes, or its file, open for reading.
    enum Body: Sendable {
        case inline(ByteBuffer)
        case file(OpenBlob)
    }

    /// How many times a read looks again when the file its row named was replaced (and
    /// unlinked) before the read could open it.
    static let maximumReadAttempts = 8

    /// Streams a body to disk: up to ``inlineBodyBytes`` it is gathered and kept in the database;
    /// beyond, it goes to a new file as it arrives, and the row naming the file commits only once
    /// the file is durable and the condition holds.
    public func put(_ name: ObjectName, streaming body: ObjectBody, options: PutOptions) async throws -> ETag {
        try LocalRules.checkPut(name, options: options)
        if let length = body.length { try LocalRules.checkSize(length, limits: self.limits) }
        if let buffer = body.buffer { return try await self.put(name, body: buffer, options: options) }
        do {
            var iterator = body.makeAsyncIterator()
            var head = ByteBuffer()
            while head.readableBytes <= self.inlineBodyBytes, let chunk = try await iterator.next() {
                head.writeImmutableBuffer(chunk)
            }
            if head.readableBytes <= self.inlineBodyBytes { return try await self.put(name, body: head, options: options) }
            return try await self.putFile(name, head: head, rest: &iterator, options: options)
        } catch let error as ObjectBodyError {
            throw ObjectStoreError(.invalidArgument, error.description)
        }
    }

    /// Writes `head` and the rest of a body to a file, then commits the row that names it.
    func putFile(_ name: ObjectName, head: ByteBuffer, rest: inout ObjectBody.Iterator, options: PutOptions) async throws -> ETag {
        let metadata = try Self.encode(options.metadata)
        let stored = try await self.blobs.store(
            head: head, rest: &rest, limit: self.limits.maximumObjectBytes, entityTag: options.entityTag
        )
        let lastModified = Self.milliseconds(self.now())
        let replaced: String?
        do {
            replaced = try await self.write { db in
                let replaced = try Self.checkedCurrent(name, options.condition, db)
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO object (key, size, etag, content_type, metadata, last_modified_ms, blob) VALUES (?, ?, ?, ?, ?, ?, ?);
                        DELETE FROM object_body WHERE key = ?
                        """,
                    arguments: [
                        Self.blob(name), stored.size, stored.etag.quoted, options.contentType, metadata, lastModified, stored.id, Self.blob(name),
                    ]
                )
                return replaced
            }
        } catch {
            await self.blobs.remove([stored.id])
            throw error
        }
        // The row commits before the file's lock is let go, so no restart takes it for an orphan.
        withExtendedLifetime(stored) {}
        await self.blobs.remove(replaced.map { [$0] } ?? [])
        return stored.etag
    }

    /// Serves a body from its row, or from its file a chunk at a time as the reader asks.
    public func stream(_ name: ObjectName, ifNoneMatch: ETagMatch?, range: ByteRange?) async throws -> StreamedObject {
        let object = try await self.read(name, ifNoneMatch: ifNoneMatch)
        let clamped = try range.map { try Self.clamp($0, size: object.info.size, name: name) }
        switch object.body {
        case .inline(let body):
            let bytes = clamped.map { body.getSlice(at: body.readerIndex + $0.first, length: $0.count)! } ?? body
            return StreamedObject(info: object.info, body: .buffered(bytes), range: clamped)
        case .file(let file):
            // Only bodies larger than the inline limit are files, so the whole is never empty.
            let whole = ByteRange(first: 0, last: object.info.size - 1)
            return StreamedObject(info: object.info, body: self.blobs.body(of: file, range: clamped ?? whole), range: clamped)
        }
    }

    /// An object's attributes and its body: the row's bytes, or its file opened.
    ///
    /// A file is opened after its row was read; a writer that replaced the object in between has
    /// unlinked it, and the read starts again from the newer row (an open file stays readable).
    func read(_ name: ObjectName, ifNoneMatch: ETagMatch?) async throws -> (info: ObjectInfo, body: Body) {
        for _ in 0..<Self.maximumReadAttempts {
            let (info, file, inline) = try await self.database.read { db -> (ObjectInfo, String?, Data?) in
                let sql = """
                    SELECT object.*, object_body.data FROM object LEFT JOIN object_body ON object_body.key = object.key
                    WHERE object.key = ?
                    """
                guard let row = try Row.fetchOne(db, sql: sql, arguments: [Self.blob(name)]) else {
                    throw ObjectStoreError.notFound(name)
                }
                return (try Self.info(row, name: name), row["blob"], row["data"])
            }
            try LocalRules.checkRead(ifNoneMatch, current: info.etag, key: name)
            guard let file else { return (info, .inline(ByteBuffer(bytes: inline ?? Data()))) }
            if let opened = try await self.blobs.openFile(file) { return (info, .file(opened)) }
        }
        throw ObjectStoreError(
            .unavailable, "'\(name)' was replaced \(Self.maximumReadAttempts) times while it was being read; try again"
        )
    }
}
