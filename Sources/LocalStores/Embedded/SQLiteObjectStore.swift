public import ObjectStore
public import Foundation
import GRDB
import GRDBSQLite
public import NIOCore

/// The embedded on-disk ``ObjectStore``: one SQLite database in WAL mode, through GRDB.
///
/// It lets s3kv run with no S3 at all. Every write commits with `synchronous = FULL`, so a write
/// that returned has reached the disk and survives a crash of the process or the machine.
/// Readers never block the writer (WAL). Writes run in IMMEDIATE transactions, which take the
/// database's write lock before reading, so a conditional write's check and its write are one
/// atomic step, also between several processes sharing the directory.
///
/// Attributes and bodies live apart: a HEAD or a listing reads only the compact attribute rows.
/// A body up to ``inlineBodyBytes`` is a row of its own table; a larger one is a file beside the
/// database (``BlobFiles``), streamed in and out in bounded memory, durable before its row
/// commits, so no reader ever sees part of it.
public final class SQLiteObjectStore: ObjectStore {
    /// The database file's name inside the data directory.
    public static let fileName = "s3kv.sqlite"
    /// The largest object: S3's, 5 TiB, since bodies that large are files; the disk bounds it first.
    public static let maximumObjectBytes = 5 << 40
    /// Bodies up to this size are kept in the database by default; larger ones are files.
    public static let defaultInlineBodyBytes = 1 << 20

    let database: DatabasePool
    let blobs: BlobFiles
    let now: @Sendable () -> Date
    /// Bodies up to this many bytes are stored in the database, larger ones as files.
    public let inlineBodyBytes: Int
    public let limits: ObjectStoreLimits

    /// Opens (creating when needed) the store in `directory`.
    ///
    /// - Parameters:
    ///   - now: the clock that stamps `lastModified`; injected so tests are exact.
    ///   - maximumPages: caps the database at this many pages, as a full disk would; for tests.
    ///   - inlineBodyBytes: bodies up to this size stay in the database; at most 64 MiB.
    public init(
        directory: String, now: @escaping @Sendable () -> Date = Date.init, maximumPages: Int? = nil,
        inlineBodyBytes: Int = SQLiteObjectStore.defaultInlineBodyBytes
    ) throws {
        precondition((0...(64 << 20)).contains(inlineBodyBytes), "inline bodies are kept to 64 MiB")
        // First: it creates the data directory the database goes in.
        self.blobs = try BlobFiles(directory: directory)
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            if let maximumPages { try db.execute(sql: "PRAGMA max_page_count = \(maximumPages)") }
        }
        configuration.busyMode = .timeout(10)
        let path = URL(fileURLWithPath: directory).appendingPathComponent(Self.fileName).path
        self.database = try DatabasePool(path: path, configuration: configuration)
        self.now = now
        try Self.migrator.migrate(self.database)
        self.inlineBodyBytes = inlineBodyBytes
        // A streamed put holds the inline prefix it reads before it knows the body is large, and
        // two buffers of the file's bytes: one being written while the next fills.
        self.limits = ObjectStoreLimits(
            maximumObjectBytes: Self.maximumObjectBytes, streamsBodies: true,
            streamBufferBytes: inlineBodyBytes + 2 * BlobFiles.writeBufferBytes, acceptsEntityTags: true
        )
        // Under the write lock, so no other process is between linking a file and committing it.
        let blobs = self.blobs
        try self.database.write { db in
            let referenced = try String.fetchAll(db, sql: "SELECT blob FROM object WHERE blob IS NOT NULL")
            _ = try blobs.collectOrphans(referenced: Set(referenced))
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            // Names are stored as UTF-8 BLOBs: SQLite compares them with memcmp, which is S3's
            // listing order, and range bounds may be any bytes.
            try db.execute(
                sql: """
                    CREATE TABLE object (
                        key BLOB NOT NULL PRIMARY KEY,
                        body BLOB NOT NULL,
                        size INTEGER NOT NULL,
                        etag TEXT NOT NULL,
                        content_type TEXT NOT NULL,
                        metadata TEXT NOT NULL,
                        last_modified_ms INTEGER NOT NULL
                    )
                    """
            )
        }
        migrator.registerMigration("v2: bodies apart from attributes") { db in
            try db.execute(
                sql: """
                    CREATE TABLE object_attributes (
                        key BLOB NOT NULL PRIMARY KEY,
                        size INTEGER NOT NULL,
                        etag TEXT NOT NULL,
                        content_type TEXT NOT NULL,
                        metadata TEXT NOT NULL,
                        last_modified_ms INTEGER NOT NULL
                    );
                    CREATE TABLE object_body (
                        key BLOB NOT NULL PRIMARY KEY,
                        data BLOB NOT NULL
                    );
                    INSERT INTO object_attributes SELECT key, size, etag, content_type, metadata, last_modified_ms FROM object;
                    INSERT INTO object_body SELECT key, body FROM object;
                    DROP TABLE object;
                    ALTER TABLE object_attributes RENAME TO object;
                    """
            )
        }
        migrator.registerMigration("v3: large bodies as files") { db in
            // The file holding the body, under blobs/; NULL when the body is an object_body row.
            try db.execute(sql: "ALTER TABLE object ADD COLUMN blob TEXT")
        }
        return migrator
    }

    public func probe() async throws {
        _ = try await self.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM object WHERE 0") }
    }

    /// Closes the database; later calls fail.
    public func close() throws {
        try self.database.close()
    }

    public func put(_ name: ObjectName, body: ByteBuffer, options: PutOptions) async throws -> ETag {
        try LocalRules.checkPut(name, options: options)
        try LocalRules.checkSize(body.readableBytes, limits: self.limits)
        if body.readableBytes > self.inlineBodyBytes {
            var nothingMore = ObjectBody.buffered(ByteBuffer()).makeAsyncIterator()
            return try await self.putFile(name, head: body, rest: &nothingMore, options: options)
        }
        let etag = options.entityTag ?? ETag.md5(of: body.readableBytesView)
        let bytes = Data(body.readableBytesView)
        let metadata = try Self.encode(options.metadata)
        let lastModified = Self.milliseconds(self.now())
        let replaced = try await self.write { db in
            let replaced = try Self.checkedCurrent(name, options.condition, db)
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO object (key, size, etag, content_type, metadata, last_modified_ms, blob) VALUES (?, ?, ?, ?, ?, ?, NULL);
                    INSERT OR REPLACE INTO object_body (key, data) VALUES (?, ?)
                    """,
                arguments: [Self.blob(name), bytes.count, etag.quoted, options.contentType, metadata, lastModified, Self.blob(name), bytes]
            )
            return replaced
        }
        await self.blobs.remove(replaced.map { [$0] } ?? [])
        return etag
    }

    public func get(_ name: ObjectName, ifNoneMatch: ETagMatch?) async throws -> StoredObject {
        let object = try await self.read(name, ifNoneMatch: ifNoneMatch)
        switch object.body {
        case .inline(let body): return StoredObject(info: object.info, body: body)
        case .file(let file): return StoredObject(info: object.info, body: try await self.blobs.read(file, size: object.info.size))
        }
    }

    public func head(_ name: ObjectName, ifNoneMatch: ETagMatch?) async throws -> ObjectInfo {
        let info = try await self.database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM object WHERE key = ?", arguments: [Self.blob(name)]) else {
                throw ObjectStoreError.notFound(name)
            }
            return try Self.info(row, name: name)
        }
        try LocalRules.checkRead(ifNoneMatch, current: info.etag, key: name)
        return info
    }

    public func delete(_ name: ObjectName, ifMatch: ETag?) async throws {
        let removed = try await self.write { db in
            _ = try Self.checkedCurrent(name, ifMatch.map(WriteCondition.ifMatch) ?? .none, db)
            return try Self.remove(name, db)
        }
        await self.blobs.remove(removed.map { [$0] } ?? [])
    }

    public func copy(from source: ObjectName, to destination: ObjectName, options: CopyOptions) async throws -> ETag {
        try LocalRules.checkCopy(to: destination, options: options)
        let replacingMetadata = try options.replacing.map { try Self.encode($0.metadata) }
        let lastModified = Self.milliseconds(self.now())
        let blobs = self.blobs
        let (etag, replaced) = try await self.write { db in
            let sql = "SELECT etag, blob FROM object WHERE key = ?"
            guard let row = try Row.fetchOne(db, sql: sql, arguments: [Self.blob(source)]) else {
                throw ObjectStoreError.notFound(source)
            }
            let etag = ETag(row["etag"] as String)
            if let expected = options.sourceIfMatch, expected != etag {
                throw ObjectStoreError.preconditionFailed(source)
            }
            let replaced = try String.fetchOne(db, sql: "SELECT blob FROM object WHERE key = ?", arguments: [Self.blob(destination)])
            // A file is shared by a hard link, made while the write lock keeps the source referenced.
            let file = try (row["blob"] as String?).map(blobs.hardLink)
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO object (key, size, etag, content_type, metadata, last_modified_ms, blob)
                    SELECT ?, size, etag, coalesce(?, content_type), coalesce(?, metadata), ?, ? FROM object WHERE key = ?
                    """,
                arguments: [Self.blob(destination), options.replacing?.contentType, replacingMetadata, lastModified, file, Self.blob(source)]
            )
            if file == nil {
                let sql = "INSERT OR REPLACE INTO object_body (key, data) SELECT ?, data FROM object_body WHERE key = ?"
                try db.execute(sql: sql, arguments: [Self.blob(destination), Self.blob(source)])
            } else {
                try db.execute(sql: "DELETE FROM object_body WHERE key = ?", arguments: [Self.blob(destination)])
            }
            return (etag, replaced)
        }
        await self.blobs.remove(replaced.map { [$0] } ?? [])
        return etag
    }

    public func list(_ request: ListRequest) async throws -> ListPage {
        try await self.database.read { db in
            try LocalListing.page(request) { from, until, limit in
                var sql = "SELECT key, size, etag, last_modified_ms FROM object WHERE key \(from.inclusive ? ">=" : ">") ?"
                var arguments: StatementArguments = [Data(from.key)]
                if let until {
                    sql += " AND key < ?"
                    arguments += [Data(until)]
                }
                sql += " ORDER BY key LIMIT ?"
                arguments += [limit]
                return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                    ObjectSummary(
                        // Stored names were valid UTF-8 when written; decoding keeps their bytes.
                        name: ObjectName(String(decoding: row["key"] as Data, as: UTF8.self)),
                        size: row["size"],
                        etag: ETag(row["etag"] as String),
                        lastModified: Self.date(row["last_modified_ms"])
                    )
                }
            }
        }
    }

    public func deleteMany(_ names: [ObjectName]) async throws -> DeleteManyResult {
        try ObjectLimits.checkDeleteMany(names)
        let removed = try await self.write { db in
            try names.compactMap { name in try Self.remove(name, db) }
        }
        await self.blobs.remove(removed)
        return DeleteManyResult(deleted: names)
    }

    /// A write transaction; a database that cannot grow (a full disk, or the page cap) is
    /// ``ObjectStoreError/Code/insufficientStorage``, with nothing written.
    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await self.database.write(updates)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
            throw ObjectStoreError(.insufficientStorage, "the embedded store's disk is full: \(error.message ?? "SQLITE_FULL")")
        }
    }

    // MARK: Encoding

    /// Checks `condition` against the current object inside a write transaction.
    ///
    /// - Returns: the file of the current object's body, if it is one, which the caller removes
    ///   once its change has committed.
    static func checkedCurrent(_ name: ObjectName, _ condition: WriteCondition, _ db: Database) throws -> String? {
        let row = try Row.fetchOne(db, sql: "SELECT etag, blob FROM object WHERE key = ?", arguments: [Self.blob(name)])
        try LocalRules.checkWrite(condition, current: row.map { ETag($0["etag"] as String) }, key: name)
        return row?["blob"]
    }

    /// Deletes an object's rows; returns its body's file, for removal after the commit.
    static func remove(_ name: ObjectName, _ db: Database) throws -> String? {
        let file = try String.fetchOne(db, sql: "SELECT blob FROM object WHERE key = ?", arguments: [Self.blob(name)])
        try db.execute(
            sql: "DELETE FROM object WHERE key = ?; DELETE FROM object_body WHERE key = ?",
            arguments: [Self.blob(name), Self.blob(name)]
        )
        return file
    }

    static func blob(_ name: ObjectName) -> Data { Data(name.utf8) }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }

    private static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    static func encode(_ metadata: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(metadata), as: UTF8.self)
    }

    static func info(_ row: Row, name: ObjectName) throws -> ObjectInfo {
        let metadata = try JSONDecoder().decode([String: String].self, from: Data((row["metadata"] as String).utf8))
        return ObjectInfo(
            name: name, size: row["size"], etag: ETag(row["etag"] as String),
            lastModified: date(row["last_modified_ms"]), contentType: row["content_type"], metadata: metadata
        )
    }
}
