import Foundation
import GRDB
import NIOCore

/// The embedded on-disk ``ObjectStore``: one SQLite database in WAL mode, through GRDB.
///
/// It lets s3kv run with no S3 at all. Every write commits with `synchronous = FULL`, so a write
/// that returned has reached the disk and survives a crash of the process or the machine.
/// Readers never block the single writer (WAL), and conditional writes are checked inside the
/// writing transaction, so compare-and-swap is exact.
public final class SQLiteObjectStore: ObjectStore {
    /// The database file's name inside the data directory.
    public static let fileName = "s3kv.sqlite"

    private let database: DatabasePool
    private let now: @Sendable () -> Date

    /// Opens (creating when needed) the store in `directory`.
    ///
    /// - Parameter now: the clock that stamps `lastModified`; injected so tests are exact.
    public init(directory: String, now: @escaping @Sendable () -> Date = Date.init) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        configuration.busyMode = .timeout(10)
        let path = URL(fileURLWithPath: directory).appendingPathComponent(Self.fileName).path
        self.database = try DatabasePool(path: path, configuration: configuration)
        self.now = now
        try Self.migrator.migrate(self.database)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            // Keys are stored as UTF-8 BLOBs: SQLite compares them with memcmp, which is S3's
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
        return migrator
    }

    public func probe() async throws {
        _ = try await self.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM object WHERE 0") }
    }

    /// Closes the database; later calls fail.
    public func close() throws {
        try self.database.close()
    }

    public func put(_ key: String, body: ByteBuffer, options: PutOptions) async throws -> ETag {
        try LocalRules.checkKey(key)
        try ObjectLimits.checkMetadata(options.metadata)
        let etag = ETag.md5(of: body.readableBytesView)
        let bytes = Data(body.readableBytesView)
        let metadata = try Self.encode(options.metadata)
        let lastModified = Self.milliseconds(self.now())
        try await self.database.write { db in
            let current = try String.fetchOne(db, sql: "SELECT etag FROM object WHERE key = ?", arguments: [Self.blob(key)])
            try LocalRules.checkWrite(options.condition, current: current.map(ETag.init), key: key)
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO object (key, body, size, etag, content_type, metadata, last_modified_ms)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [Self.blob(key), bytes, bytes.count, etag.quoted, options.contentType, metadata, lastModified]
            )
        }
        return etag
    }

    public func get(_ key: String, ifNoneMatch: ETagMatch?) async throws -> StoredObject {
        let (info, body) = try await self.database.read { db -> (ObjectInfo, Data) in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM object WHERE key = ?", arguments: [Self.blob(key)]) else {
                throw ObjectStoreError.notFound(key)
            }
            return (try Self.info(row, key: key), row["body"])
        }
        try LocalRules.checkRead(ifNoneMatch, current: info.etag, key: key)
        return StoredObject(info: info, body: ByteBuffer(bytes: body))
    }

    public func head(_ key: String, ifNoneMatch: ETagMatch?) async throws -> ObjectInfo {
        let info = try await self.database.read { db in
            let sql = "SELECT size, etag, content_type, metadata, last_modified_ms FROM object WHERE key = ?"
            guard let row = try Row.fetchOne(db, sql: sql, arguments: [Self.blob(key)]) else {
                throw ObjectStoreError.notFound(key)
            }
            return try Self.info(row, key: key)
        }
        try LocalRules.checkRead(ifNoneMatch, current: info.etag, key: key)
        return info
    }

    public func delete(_ key: String, ifMatch: ETag?) async throws {
        try await self.database.write { db in
            if let ifMatch {
                let current = try String.fetchOne(db, sql: "SELECT etag FROM object WHERE key = ?", arguments: [Self.blob(key)])
                try LocalRules.checkWrite(.ifMatch(ifMatch), current: current.map(ETag.init), key: key)
            }
            try db.execute(sql: "DELETE FROM object WHERE key = ?", arguments: [Self.blob(key)])
        }
    }

    public func copy(from source: String, to destination: String, options: CopyOptions) async throws -> ETag {
        try LocalRules.checkKey(destination)
        if let replacing = options.replacing { try ObjectLimits.checkMetadata(replacing.metadata) }
        let replacingMetadata = try options.replacing.map { try Self.encode($0.metadata) }
        let lastModified = Self.milliseconds(self.now())
        return try await self.database.write { db in
            let sql = "SELECT etag FROM object WHERE key = ?"
            guard let etag = try String.fetchOne(db, sql: sql, arguments: [Self.blob(source)]).map(ETag.init) else {
                throw ObjectStoreError.notFound(source)
            }
            if let expected = options.sourceIfMatch, expected != etag {
                throw ObjectStoreError.preconditionFailed(source)
            }
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO object (key, body, size, etag, content_type, metadata, last_modified_ms)
                    SELECT ?, body, size, etag, coalesce(?, content_type), coalesce(?, metadata), ?
                    FROM object WHERE key = ?
                    """,
                arguments: [
                    Self.blob(destination), options.replacing?.contentType, replacingMetadata, lastModified,
                    Self.blob(source),
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
                        key: String(decoding: row["key"] as Data, as: UTF8.self),
                        size: row["size"],
                        etag: ETag(row["etag"] as String),
                        lastModified: Self.date(row["last_modified_ms"])
                    )
                }
            }
        }
    }

    public func deleteMany(_ keys: [String]) async throws -> DeleteManyResult {
        try ObjectLimits.checkDeleteMany(keys)
        try await self.database.write { db in
            for key in keys {
                try db.execute(sql: "DELETE FROM object WHERE key = ?", arguments: [Self.blob(key)])
            }
        }
        return DeleteManyResult(deleted: keys)
    }

    // MARK: Encoding

    private static func blob(_ key: String) -> Data { Data(key.utf8) }

    private static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }

    private static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    private static func encode(_ metadata: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(metadata), as: UTF8.self)
    }

    private static func info(_ row: Row, key: String) throws -> ObjectInfo {
        let metadata = try JSONDecoder().decode([String: String].self, from: Data((row["metadata"] as String).utf8))
        return ObjectInfo(
            key: key, size: row["size"], etag: ETag(row["etag"] as String),
            lastModified: date(row["last_modified_ms"]), contentType: row["content_type"], metadata: metadata
        )
    }
}
