import Foundation
import GRDB
import GRDBSQLite
import NIOCore

/// The embedded on-disk ``ObjectStore``: one SQLite database in WAL mode, through GRDB.
///
/// It lets s3kv run with no S3 at all. Every write commits with `synchronous = FULL`, so a write
/// that returned has reached the disk and survives a crash of the process or the machine.
/// Readers never block the writer (WAL). Writes run in IMMEDIATE transactions, which take the
/// database's write lock before reading, so a conditional write's check and its write are one
/// atomic step, also between several processes sharing the directory.
///
/// Attributes and bodies live in separate tables: a HEAD or a listing reads only the compact
/// attribute rows, never the overflow pages of a large body.
public final class SQLiteObjectStore: ObjectStore {
    /// The database file's name inside the data directory.
    public static let fileName = "s3kv.sqlite"

    private let database: DatabasePool
    private let now: @Sendable () -> Date
    public let limits: ObjectStoreLimits

    /// Opens (creating when needed) the store in `directory`.
    ///
    /// - Parameters:
    ///   - now: the clock that stamps `lastModified`; injected so tests are exact.
    ///   - maximumPages: caps the database at this many pages, as a full disk would; for tests.
    public init(directory: String, now: @escaping @Sendable () -> Date = Date.init, maximumPages: Int? = nil) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
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
        // SQLite refuses a value longer than its length limit (10^9 bytes unless built otherwise).
        let maximumLength = try self.database.read { db in Int(sqlite3_limit(db.sqliteConnection, SQLITE_LIMIT_LENGTH, -1)) }
        self.limits = ObjectStoreLimits(maximumObjectBytes: maximumLength)
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
        let etag = ETag.md5(of: body.readableBytesView)
        let bytes = Data(body.readableBytesView)
        let metadata = try Self.encode(options.metadata)
        let lastModified = Self.milliseconds(self.now())
        try await self.write { db in
            let current = try String.fetchOne(db, sql: "SELECT etag FROM object WHERE key = ?", arguments: [Self.blob(name)])
            try LocalRules.checkWrite(options.condition, current: current.map(ETag.init), key: name)
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO object (key, size, etag, content_type, metadata, last_modified_ms) VALUES (?, ?, ?, ?, ?, ?);
                    INSERT OR REPLACE INTO object_body (key, data) VALUES (?, ?)
                    """,
                arguments: [Self.blob(name), bytes.count, etag.quoted, options.contentType, metadata, lastModified, Self.blob(name), bytes]
            )
        }
        return etag
    }

    public func get(_ name: ObjectName, ifNoneMatch: ETagMatch?) async throws -> StoredObject {
        let (info, body) = try await self.database.read { db -> (ObjectInfo, Data) in
            let sql = """
                SELECT object.*, object_body.data FROM object JOIN object_body ON object_body.key = object.key
                WHERE object.key = ?
                """
            guard let row = try Row.fetchOne(db, sql: sql, arguments: [Self.blob(name)]) else {
                throw ObjectStoreError.notFound(name)
            }
            return (try Self.info(row, name: name), row["data"])
        }
        try LocalRules.checkRead(ifNoneMatch, current: info.etag, key: name)
        return StoredObject(info: info, body: ByteBuffer(bytes: body))
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
        try await self.write { db in
            if let ifMatch {
                let current = try String.fetchOne(db, sql: "SELECT etag FROM object WHERE key = ?", arguments: [Self.blob(name)])
                try LocalRules.checkWrite(.ifMatch(ifMatch), current: current.map(ETag.init), key: name)
            }
            try Self.remove(name, db)
        }
    }

    public func copy(from source: ObjectName, to destination: ObjectName, options: CopyOptions) async throws -> ETag {
        try LocalRules.checkCopy(to: destination, options: options)
        let replacingMetadata = try options.replacing.map { try Self.encode($0.metadata) }
        let lastModified = Self.milliseconds(self.now())
        return try await self.write { db in
            let sql = "SELECT etag FROM object WHERE key = ?"
            guard let etag = try String.fetchOne(db, sql: sql, arguments: [Self.blob(source)]).map(ETag.init) else {
                throw ObjectStoreError.notFound(source)
            }
            if let expected = options.sourceIfMatch, expected != etag {
                throw ObjectStoreError.preconditionFailed(source)
            }
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO object (key, size, etag, content_type, metadata, last_modified_ms)
                    SELECT ?, size, etag, coalesce(?, content_type), coalesce(?, metadata), ? FROM object WHERE key = ?;
                    INSERT OR REPLACE INTO object_body (key, data) SELECT ?, data FROM object_body WHERE key = ?
                    """,
                arguments: [
                    Self.blob(destination), options.replacing?.contentType, replacingMetadata, lastModified, Self.blob(source),
                    Self.blob(destination), Self.blob(source),
                ]
            )
            return etag
        }
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
        try await self.write { db in
            for name in names { try Self.remove(name, db) }
        }
        return DeleteManyResult(deleted: names)
    }

    /// A write transaction; a database that cannot grow (a full disk, or the page cap) is
    /// ``ObjectStoreError/Code/insufficientStorage``, with nothing written.
    private func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await self.database.write(updates)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
            throw ObjectStoreError(.insufficientStorage, "the embedded store's disk is full: \(error.message ?? "SQLITE_FULL")")
        }
    }

    // MARK: Encoding

    private static func remove(_ name: ObjectName, _ db: Database) throws {
        try db.execute(
            sql: "DELETE FROM object WHERE key = ?; DELETE FROM object_body WHERE key = ?",
            arguments: [Self.blob(name), Self.blob(name)]
        )
    }

    private static func blob(_ name: ObjectName) -> Data { Data(name.utf8) }

    private static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }

    private static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    private static func encode(_ metadata: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(metadata), as: UTF8.self)
    }

    private static func info(_ row: Row, name: ObjectName) throws -> ObjectInfo {
        let metadata = try JSONDecoder().decode([String: String].self, from: Data((row["metadata"] as String).utf8))
        return ObjectInfo(
            name: name, size: row["size"], etag: ETag(row["etag"] as String),
            lastModified: date(row["last_modified_ms"]), contentType: row["content_type"], metadata: metadata
        )
    }
}
