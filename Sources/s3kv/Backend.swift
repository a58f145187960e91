import CoreMetrics
import Logging
import LocalStores
import ObjectStore
import S3
import S3Protocol

/// The object store selected by the settings, with a description for the start-up log line.
struct Backend: CustomStringConvertible {
    var objects: any ObjectStore
    var description: String
    /// Releases the backend's resources (connection pool, database) once the server has stopped.
    var close: @Sendable () async throws -> Void = {}

    /// Opens the backend; for S3, checks the bucket is reachable with the credentials (creating it
    /// when configured to), so a wrong setting stops start-up instead of failing every request.
    static func open(_ settings: Settings, logger: Logger, metrics: any MetricsFactory) async throws -> Backend {
        switch settings.storage {
        case .memory:
            return Backend(objects: MemoryObjectStore(), description: "memory (nothing survives a restart)")
        case .local:
            let store = try SQLiteObjectStore(directory: settings.dataDirectory)
            return Backend(objects: store, description: "local (\(settings.dataDirectory))", close: { try store.close() })
        case .s3:
            let s3 = settings.s3!
            let store = S3ObjectStore(client: S3Client(configuration: try s3.clientConfiguration(), logger: Logger(label: "s3kv.s3"), metrics: metrics), prefix: s3.prefix)
            do {
                try await Self.checkBucket(store, settings: s3, logger: logger)
            } catch {
                try? await store.client.shutdown()
                throw error
            }
            return Backend(
                objects: store, description: "s3 (bucket \(s3.bucket) at \(s3.endpoint))",
                close: { try await store.client.shutdown() }
            )
        }
    }

    private static func checkBucket(_ store: S3ObjectStore, settings: S3Settings, logger: Logger) async throws {
        let missing: Bool
        do {
            try await store.headBucket()
            missing = false
        } catch {
            if error.status == 403 {
                // HEAD answers have no body, so S3 cannot say which of these it was.
                throw S3Error(
                    code: error.code,
                    message: "access to bucket '\(settings.bucket)' denied (HTTP 403): check S3_ACCESS_KEY and S3_SECRET_KEY, "
                        + "and that the key may access the bucket",
                    status: 403
                )
            }
            guard error.status == 404 else { throw error }
            missing = true
        }
        guard missing else { return }
        guard settings.createBucket else {
            throw S3Error(
                code: "NoSuchBucket", message: "bucket '\(settings.bucket)' does not exist (set S3_CREATE_BUCKET=true to create it)",
                status: 404
            )
        }
        try await store.createBucket()
        logger.notice("created bucket \(settings.bucket)")
    }
}
