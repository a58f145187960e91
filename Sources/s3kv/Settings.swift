import Foundation
import KVServer
import KVStore
import Logging
import S3
import ServerSupport

/// Which backend holds the data.
enum StorageKind: String, Sendable, CaseIterable {
    /// S3 or an S3-compatible store.
    case s3
    /// The embedded on-disk store (SQLite).
    case local
    /// Process memory; nothing survives a restart.
    case memory

    /// Whether large values move as streams in bounded memory (S3 in parts, the embedded store
    /// to files), rather than being held whole while they are stored.
    var streamsLargeValues: Bool { self != .memory }
}

/// How log lines are written.
enum LogFormat: String, Sendable, CaseIterable {
    /// One JSON object per line, for log shippers.
    case json
    /// `timestamp level label: [metadata] message`, for people at a terminal.
    case text
}

/// Everything s3kv is configured with, read from environment variables and validated at once,
/// so a bad value stops start-up with one line naming the variable instead of failing later.
struct Settings: Sendable, Equatable {
    var server: ServerConfiguration
    var storage: StorageKind
    /// Where the embedded store keeps its database.
    var dataDirectory: String
    var logLevel: Logger.Level
    var logFormat: LogFormat
    /// How long in-flight requests may take to finish once shutdown starts.
    var shutdownTimeout: Duration
    /// How long the server keeps serving, with `/ready` at 503, before it stops accepting
    /// connections: time for a load balancer to stop sending requests.
    var shutdownDrainDelay: Duration
    /// History, cache and sweeping.
    var store: KVStoreConfiguration
    /// Time between passes of the expiry sweeper.
    var sweepInterval: Duration
    /// The S3 settings; set when `storage` is `.s3`.
    var s3: S3Settings?
    /// The token file; nil turns access control off.
    var tokensFile: String?
    /// The certificate and key to serve HTTPS with; nil for plain HTTP.
    var tls: TLSFiles?

    /// The variables read, with what each does; `--help` and the README list the same.
    static let variables: [(name: String, help: String)] = [
        ("HOST", "address to listen on (default 127.0.0.1; 0.0.0.0 in the container image)"),
        ("PORT", "port to listen on, 0 for any free port (default 8080)"),
        ("KV_STORAGE", "s3 | local | memory (default: s3 when S3_BUCKET is set, otherwise local)"),
        ("KV_DATA_DIR", "directory of the embedded store (default ./data)"),
        ("KV_MAX_VALUE_BYTES", "largest accepted value, e.g. 16MiB or 1048576 (default: 5TiB on s3 and local, streamed; 16MiB on memory)"),
        ("KV_BATCH_MAX_BYTES", "largest batch request body (POST /kv), e.g. 64MiB (default 64MiB)"),
        ("KV_BATCH_CONCURRENCY", "items of a batch sent to the backend at once, 1 to 256 (default 16)"),
        ("KV_BUFFER_BYTES", "request-body bytes all requests may hold in memory at once, e.g. 256MiB (default 256MiB)"),
        ("KV_BUFFER_WAIT", "how long a request waits for buffer room before 503 overloaded, e.g. 1s; 0 refuses at once (default 1s)"),
        ("KV_REQUEST_TIMEOUT", "how long a request may take, retries and waits included, e.g. 10s (default 10s)"),
        ("KV_IDLE_TIMEOUT", "how long a connection may go without a request part: idle, or stalled mid-request (default 75s)"),
        ("KV_HEADER_TIMEOUT", "how long a request's head may take to arrive once it has started (default 10s)"),
        ("KV_MAX_CONNECTIONS", "connections served at once; more wait in the listen backlog (default 4096)"),
        ("KV_MAX_IN_FLIGHT", "requests worked on at once; more are answered 503 overloaded (default 1024)"),
        ("KV_MAX_HEADER_BYTES", "largest request head, e.g. 16KiB (default 16KiB)"),
        ("KV_CACHE_BYTES", "memory for the value cache, e.g. 64MiB; 0 turns it off (default 64MiB)"),
        ("KV_CACHE_MAX_VALUE_BYTES", "largest value the cache keeps (default 1MiB)"),
        ("KV_CACHE_MAX_STALENESS", "how long a cached value is served unchecked, e.g. 1s, 250ms; 0 checks every read (default 1s)"),
        ("KV_CACHE_STALE_WHILE_REVALIDATE", "how long past that a value is served while one revalidation runs behind; 0 waits (default 10s)"),
        ("KV_CACHE_STALE_IF_ERROR", "how long past that a value is served while the backend is unavailable; 0 never (default 0)"),
        ("KV_VERSION_HISTORY", "previous versions kept per key, 0 to 999; 0 keeps none (default 0)"),
        ("KV_SWEEP_INTERVAL", "time between passes reclaiming expired values, e.g. 60s (default 60s)"),
        ("LOG_LEVEL", "trace | debug | info | notice | warning | error | critical (default info)"),
        ("LOG_FORMAT", "json | text: one JSON object per line, or text for terminals (default json)"),
        ("SHUTDOWN_TIMEOUT", "how long in-flight requests may run after SIGTERM or SIGINT, e.g. 25s (default 25s)"),
        ("KV_TRUSTED_PROXIES", "proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the client in the access log (default none)"),
        ("SHUTDOWN_DRAIN_DELAY", "how long to keep serving after SIGTERM with /ready at 503, before refusing connections; under SHUTDOWN_TIMEOUT (default 0)"),
        ("KV_AUTH_TOKENS_FILE", "JSON file of bearer tokens (name, scope, prefix, sha256); unset: no access control. Reloaded on SIGHUP"),
        ("KV_AUTH_REQUIRED", "true | false: refuse to start without KV_AUTH_TOKENS_FILE (default false)"),
        ("KV_AUTH_OPEN_ENDPOINTS", "endpoints served without a token, of /ready,/metrics,/openapi.json,/docs, or none (default /ready,/openapi.json,/docs)"),
        ("KV_AUTH_FAILURE_BURST", "failed authentications an address may make before it is slowed; 0 never slows (default 10)"),
        ("KV_AUTH_FAILURE_INTERVAL", "how long a slowed address waits for each further attempt, e.g. 1s (default 1s)"),
        ("TLS_CERT_FILE", "PEM certificate chain to serve HTTPS with, with TLS_KEY_FILE; reloaded on SIGHUP (default: plain HTTP)"),
        ("TLS_KEY_FILE", "PEM private key of TLS_CERT_FILE"),
        ("S3_ENDPOINT", "S3 endpoint URL (fallback AWS_ENDPOINT_URL; default https://s3.<region>.amazonaws.com)"),
        ("S3_BUCKET", "bucket holding the data; setting it selects the s3 storage by default"),
        ("S3_ACCESS_KEY", "access key id (fallback AWS_ACCESS_KEY_ID)"),
        ("S3_SECRET_KEY", "secret access key (fallback AWS_SECRET_ACCESS_KEY)"),
        ("S3_SESSION_TOKEN", "session token of temporary credentials (fallback AWS_SESSION_TOKEN)"),
        ("S3_REGION", "signing region (fallback AWS_REGION, AWS_DEFAULT_REGION; default us-east-1)"),
        ("S3_PREFIX", "prefix for every object name, e.g. team-a/ (default none)"),
        ("S3_FORCE_PATH_STYLE", "true | false: path-style addressing (default true with S3_ENDPOINT, else false)"),
        ("S3_CA_FILE", "PEM file of the CA certificates to trust for an https S3_ENDPOINT, besides the system's (default: system's only)"),
        ("S3_CREATE_BUCKET", "true | false: create the bucket at start when missing (default false)"),
        ("KV_S3_MULTIPART_THRESHOLD", "values from this size (or of unknown length, past it) go up in parts, 5MiB to 5GiB (default 16MiB)"),
        ("KV_S3_PART_SIZE", "size of each part of a multipart upload, 5MiB to 5GiB (default 8MiB)"),
        ("KV_S3_UPLOAD_CONCURRENCY", "parts of one upload in flight at once, 1 to 64 (default 4)"),
    ]

    /// The variables as `--help` shows them: one per line, descriptions aligned.
    static var variablesHelp: String {
        let width = (variables.map(\.name.count).max() ?? 0) + 2
        return variables.map { "  " + $0.name.padding(toLength: width, withPad: " ", startingAt: 0) + $0.help }.joined(separator: "\n")
    }

    /// The largest configurable value: S3's limit for one object, uploaded in parts.
    static let maximumValueBytesCeiling = 5 << 40
    /// The default largest value where values stream in bounded memory: as large as S3 stores
    /// (5 TiB, less the write id s3kv appends); the embedded store takes the same.
    static let defaultStreamedMaxValueBytes = (5 << 40) - KeyValueStore.objectOverheadBytes

    init(environment: [String: String]) throws(ConfigurationError) {
        let reader = EnvironmentReader(environment)
        let host = reader.string("HOST") ?? "127.0.0.1"
        let port = try reader.integer("PORT", in: 0...65_535, expected: "a port number from 0 to 65535") ?? 8080
        let defaultStorage: StorageKind = reader.string("S3_BUCKET") == nil ? .local : .s3
        self.storage = try reader.choice("KV_STORAGE", StorageKind.self) ?? defaultStorage
        // The memory store holds a value whole while it stores it; S3 and the embedded store stream.
        let maxValueBytes =
            try reader.byteSize("KV_MAX_VALUE_BYTES", in: 1...Self.maximumValueBytesCeiling)
            ?? (self.storage.streamsLargeValues ? Self.defaultStreamedMaxValueBytes : ServerConfiguration.defaultMaxValueBytes)
        let cacheDefaults = ValueCache.Configuration()
        let cacheMaxValueBytes =
            try reader.byteSize("KV_CACHE_MAX_VALUE_BYTES", in: 1...(1 << 30)) ?? cacheDefaults.maxValueBytes
        var trustedProxies = TrustedProxies.none
        if let text = reader.string("KV_TRUSTED_PROXIES") {
            do { trustedProxies = try TrustedProxies(parsing: text) } catch { throw ConfigurationError(variable: "KV_TRUSTED_PROXIES", message: "\(error)") }
        }
        let defaultServer = ServerConfiguration()
        let access = try AccessSettings.configuration(reader)
        self.server = ServerConfiguration(
            host: host,
            port: port,
            maxValueBytes: maxValueBytes,
            maxBatchBytes: try reader.byteSize("KV_BATCH_MAX_BYTES", in: 1...(4 << 30)) ?? defaultServer.maxBatchBytes,
            batchConcurrency: try reader.integer("KV_BATCH_CONCURRENCY", in: 1...256, expected: "a number from 1 to 256")
                ?? defaultServer.batchConcurrency,
            bufferBytes: try reader.byteSize("KV_BUFFER_BYTES", in: 1...(1 << 40)) ?? defaultServer.bufferBytes,
            bufferWait: try reader.duration("KV_BUFFER_WAIT", allowZero: true) ?? defaultServer.bufferWait,
            requestTimeout: try reader.duration("KV_REQUEST_TIMEOUT", allowZero: false) ?? defaultServer.requestTimeout,
            idleTimeout: try reader.duration("KV_IDLE_TIMEOUT", allowZero: false) ?? defaultServer.idleTimeout,
            headerTimeout: try reader.duration("KV_HEADER_TIMEOUT", allowZero: false) ?? defaultServer.headerTimeout,
            maxConnections: try reader.integer("KV_MAX_CONNECTIONS", in: 1...1_000_000, expected: "a number from 1 to 1000000")
                ?? defaultServer.maxConnections,
            maxRequestsInFlight: try reader.integer("KV_MAX_IN_FLIGHT", in: 1...1_000_000, expected: "a number from 1 to 1000000")
                ?? defaultServer.maxRequestsInFlight,
            maxHeaderBytes: try reader.byteSize("KV_MAX_HEADER_BYTES", in: 1024...(1 << 20)) ?? defaultServer.maxHeaderBytes,
            trustedProxies: trustedProxies,
            access: access
        )
        // The largest request must fit in the budget, or it could never be served. On S3 only
        // values the cache keeps are read whole; larger ones stream (in parts, or to a file).
        let bufferedValueBytes = self.storage.streamsLargeValues ? min(self.server.maxValueBytes, cacheMaxValueBytes) : self.server.maxValueBytes
        let valueNeed = bufferedValueBytes * BodyBuffering.valueExpansion
        if self.server.bufferBytes < valueNeed {
            throw ConfigurationError(
                variable: "KV_BUFFER_BYTES",
                message: "\(self.server.bufferBytes) bytes cannot hold one value of KV_MAX_VALUE_BYTES, which takes "
                    + "\(BodyBuffering.valueExpansion) times its size while stored (\(valueNeed) bytes)"
            )
        }
        let batchNeed = self.server.maxBatchBytes * BodyBuffering.batchExpansion
        if self.server.bufferBytes < batchNeed {
            throw ConfigurationError(
                variable: "KV_BUFFER_BYTES",
                message: "\(self.server.bufferBytes) bytes cannot hold one batch of KV_BATCH_MAX_BYTES, which takes "
                    + "\(BodyBuffering.batchExpansion) times its size while decoded (\(batchNeed) bytes)"
            )
        }

        self.dataDirectory = reader.string("KV_DATA_DIR") ?? "./data"
        self.logLevel = try reader.choice("LOG_LEVEL", Logger.Level.self) ?? .info
        self.logFormat = try reader.choice("LOG_FORMAT", LogFormat.self) ?? .json
        self.shutdownTimeout = try reader.duration("SHUTDOWN_TIMEOUT", allowZero: true) ?? .seconds(25)
        self.shutdownDrainDelay = try reader.duration("SHUTDOWN_DRAIN_DELAY", allowZero: true) ?? .zero
        guard self.shutdownDrainDelay == .zero || self.shutdownDrainDelay < self.shutdownTimeout else {
            throw ConfigurationError(
                variable: "SHUTDOWN_DRAIN_DELAY", message: "must be less than SHUTDOWN_TIMEOUT, which counts from the signal too"
            )
        }
        let defaults = cacheDefaults
        let cache = ValueCache.Configuration(
            capacityBytes: try reader.byteSize("KV_CACHE_BYTES", in: 0...(1 << 40)) ?? defaults.capacityBytes,
            maxValueBytes: cacheMaxValueBytes,
            maxStaleness: try reader.duration("KV_CACHE_MAX_STALENESS", allowZero: true) ?? defaults.maxStaleness,
            staleWhileRevalidate: try reader.duration("KV_CACHE_STALE_WHILE_REVALIDATE", allowZero: true) ?? defaults.staleWhileRevalidate,
            staleIfError: try reader.duration("KV_CACHE_STALE_IF_ERROR", allowZero: true) ?? defaults.staleIfError
        )
        let history =
            try reader.integer(
                "KV_VERSION_HISTORY", in: 0...KVStoreConfiguration.maximumVersionHistory,
                expected: "a number of versions from 0 to \(KVStoreConfiguration.maximumVersionHistory)"
            ) ?? 0
        self.store = KVStoreConfiguration(versionHistory: history, cache: cache, backgroundTimeout: self.server.requestTimeout)
        self.sweepInterval = try reader.duration("KV_SWEEP_INTERVAL", allowZero: false) ?? .seconds(60)
        self.s3 = self.storage == .s3 ? try S3Settings(reader) : nil
        self.tokensFile = reader.string("KV_AUTH_TOKENS_FILE")
        if self.tokensFile == nil, try reader.boolean("KV_AUTH_REQUIRED") == true {
            throw ConfigurationError(variable: "KV_AUTH_TOKENS_FILE", message: "required when KV_AUTH_REQUIRED is true")
        }
        self.tls = try TLSFiles(reader)
        if let s3, let configuration = try? s3.clientConfiguration() {
            // One streamed upload must fit in the budget too.
            let uploadNeed = S3ObjectStore.streamBufferBytes(configuration)
            if self.server.bufferBytes < uploadNeed {
                throw ConfigurationError(
                    variable: "KV_BUFFER_BYTES",
                    message: "\(self.server.bufferBytes) bytes cannot hold one streamed upload, which holds up to "
                        + "\(uploadNeed) bytes (KV_S3_PART_SIZE × (KV_S3_UPLOAD_CONCURRENCY + 1), or KV_S3_MULTIPART_THRESHOLD)"
                )
            }
        }
    }
}

/// A configuration value that cannot be used; the description is the one line printed at exit.
struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    var variable: String
    var message: String

    var description: String { "\(self.variable): \(self.message)" }
}

/// Typed reads of environment variables; an empty value counts as unset.
struct EnvironmentReader {
    private let environment: [String: String]

    init(_ environment: [String: String]) {
        self.environment = environment
    }

    func string(_ name: String) -> String? {
        guard let value = self.environment[name], !value.isEmpty else { return nil }
        return value
    }

    func integer(_ name: String, in range: ClosedRange<Int>, expected: String) throws(ConfigurationError) -> Int? {
        guard let text = self.string(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(variable: name, message: "expected \(expected), got '\(text)'")
        }
        return value
    }

    /// The first of `names` that is set.
    func string(_ names: [String]) -> String? {
        names.lazy.compactMap { self.string($0) }.first
    }

    func boolean(_ name: String) throws(ConfigurationError) -> Bool? {
        guard let text = self.string(name) else { return nil }
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw ConfigurationError(variable: name, message: "expected true or false, got '\(text)'")
        }
    }

    func choice<Choice: RawRepresentable & CaseIterable>(
        _ name: String, _ type: Choice.Type
    ) throws(ConfigurationError) -> Choice? where Choice.RawValue == String {
        guard let text = self.string(name) else { return nil }
        guard let value = Choice(rawValue: text.lowercased()) else {
            let choices = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError(variable: name, message: "expected one of \(choices), got '\(text)'")
        }
        return value
    }

    /// A duration in the `ttl` syntax (`1s`, `250ms`, `1h30m`, or bare seconds); `0` when allowed.
    func duration(_ name: String, allowZero: Bool) throws(ConfigurationError) -> Duration? {
        guard let text = self.string(name) else { return nil }
        if allowZero, text == "0" { return .zero }
        do {
            return .milliseconds(try TimeToLive(parsing: text).milliseconds)
        } catch {
            throw ConfigurationError(
                variable: name,
                message: "expected a duration such as 1s, 250ms or 1h30m\(allowZero ? " (or 0)" : ""), got '\(text)'"
            )
        }
    }

    /// A size in bytes: a whole number with an optional binary unit (KiB, MiB, GiB; K, M, G).
    func byteSize(_ name: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let text = self.string(name) else { return nil }
        let units: [(suffix: String, factor: Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30),
            ("T", 1 << 40), ("", 1),
        ]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let number = Int(text.dropLast(suffix.count)), number >= 0,
                number <= range.upperBound / factor, range.contains(number * factor)
            {
                return number * factor
            }
            break
        }
        throw ConfigurationError(
            variable: name,
            message: "expected a size from \(range.lowerBound) to \(range.upperBound) bytes such as 16MiB, got '\(text)'"
        )
    }
}
