import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NIOCore
import S3Protocol
import S3Server
import ServerSupport
import ServiceLifecycle
import UnixSignals

/// `s3kv s3-server`: serves the S3 REST API itself, on the embedded store or in memory.
struct S3ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3-server",
        abstract: "Serve an S3-compatible API (buckets and objects) on the embedded store.",
        discussion: """
            Every setting is an environment variable; a flag, when given, overrides it.

              S3_SERVER_HOST            address to listen on (127.0.0.1)
              S3_SERVER_PORT            port (9000)
              S3_SERVER_STORAGE         local or memory (local)
              S3_SERVER_DATA_DIR        directory of the buckets (./data/s3)
              S3_SERVER_REGION          region signatures are scoped to (us-east-1)
              S3_SERVER_ACCESS_KEY      the access key id clients sign with
              S3_SERVER_SECRET_KEY      its secret
              S3_SERVER_ALLOW_ANONYMOUS true to serve unsigned requests too (false)
              S3_SERVER_DOMAIN          domain of virtual-hosted addressing, e.g. s3.localhost
                                        (photos.s3.localhost is bucket photos); unset: path-style only
              TLS_CERT_FILE             PEM certificate chain to serve HTTPS with (with TLS_KEY_FILE);
                                        read again on SIGHUP. Unset: plain HTTP
              TLS_KEY_FILE              PEM private key of TLS_CERT_FILE
              LOG_LEVEL                 trace ... critical (info)
              LOG_FORMAT                json or text (json)

            Health, readiness and Prometheus metrics are served, unsigned, at
            /_s3kv/health, /_s3kv/ready and /_s3kv/metrics (no bucket name has a '_').

            Without an access key and secret the server refuses to start, unless anonymous
            access is asked for explicitly.
            """
    )

    @Option(help: "Address to listen on (S3_SERVER_HOST).") var host: String?
    @Option(help: "Port to listen on (S3_SERVER_PORT).") var port: String?
    @Option(help: "Storage: local or memory (S3_SERVER_STORAGE).") var storage: String?
    @Option(help: "Directory of the buckets (S3_SERVER_DATA_DIR).") var dataDir: String?

    /// The settings from the environment with the flags laid over it.
    static func settings(_ environment: [String: String]) throws -> (S3ServerConfiguration, BucketRegistry.Storage) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        var configuration = S3ServerConfiguration()
        configuration.host = value("S3_SERVER_HOST") ?? "127.0.0.1"
        if let port = value("S3_SERVER_PORT") {
            guard let number = Int(port), (0...65535).contains(number) else { throw ValidationError("S3_SERVER_PORT: '\(port)' is not a port number") }
            configuration.port = number
        }
        configuration.region = value("S3_SERVER_REGION") ?? "us-east-1"
        if let domain = value("S3_SERVER_DOMAIN") {
            let labels = domain.lowercased().split(separator: ".", omittingEmptySubsequences: false)
            guard !labels.isEmpty, labels.allSatisfy({ !$0.isEmpty && $0.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" } }) else {
                throw ValidationError("S3_SERVER_DOMAIN: '\(domain)' is not a domain name such as s3.localhost")
            }
            configuration.domain = domain.lowercased()
        }
        switch value("S3_SERVER_ALLOW_ANONYMOUS")?.lowercased() {
        case nil, "false", "0", "no": configuration.allowAnonymous = false
        case "true", "1", "yes": configuration.allowAnonymous = true
        case let other?: throw ValidationError("S3_SERVER_ALLOW_ANONYMOUS: '\(other)' is not true or false")
        }
        switch (value("S3_SERVER_ACCESS_KEY"), value("S3_SERVER_SECRET_KEY")) {
        case (let key?, let secret?): configuration.credentials = [AWSCredentials(accessKeyID: key, secretAccessKey: secret)]
        case (nil, nil):
            guard configuration.allowAnonymous else {
                throw ValidationError("S3_SERVER_ACCESS_KEY and S3_SERVER_SECRET_KEY are required (or S3_SERVER_ALLOW_ANONYMOUS=true)")
            }
        default: throw ValidationError("S3_SERVER_ACCESS_KEY and S3_SERVER_SECRET_KEY are set together or not at all")
        }
        let storage: BucketRegistry.Storage
        switch value("S3_SERVER_STORAGE") ?? "local" {
        case "local": storage = .directory(value("S3_SERVER_DATA_DIR") ?? "./data/s3")
        case "memory": storage = .memory
        case let other: throw ValidationError("S3_SERVER_STORAGE: '\(other)' is not local or memory")
        }
        return (configuration, storage)
    }

    /// LOG_LEVEL and LOG_FORMAT, as `serve` reads them.
    static func logSettings(_ environment: [String: String]) throws -> (Logger.Level, LogFormat) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        var level = Logger.Level.info
        if let text = value("LOG_LEVEL") {
            guard let parsed = Logger.Level(rawValue: text.lowercased()) else {
                throw ValidationError("LOG_LEVEL: '\(text)' is not one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            level = parsed
        }
        var format = LogFormat.json
        if let text = value("LOG_FORMAT") {
            guard let parsed = LogFormat(rawValue: text.lowercased()) else { throw ValidationError("LOG_FORMAT: '\(text)' is not json or text") }
            format = parsed
        }
        return (level, format)
    }

    func run() async throws {
        var environment = ProcessInfo.processInfo.environment
        let flags: [(String, String?)] = [
            ("S3_SERVER_HOST", self.host), ("S3_SERVER_PORT", self.port), ("S3_SERVER_STORAGE", self.storage), ("S3_SERVER_DATA_DIR", self.dataDir),
        ]
        for case (let name, let value?) in flags { environment[name] = value }
        let configuration: S3ServerConfiguration
        let buckets: BucketRegistry
        let tls: TLSCertificates?
        do {
            let (settings, storage) = try Self.settings(environment)
            configuration = settings
            tls = try TLSFiles(EnvironmentReader(environment))?.load()
            buckets = try BucketRegistry(storage: storage)
        } catch {
            ServeCommand.exit(withMessage: "invalid configuration: \(error)")
        }
        let level: Logger.Level
        let format: LogFormat
        do {
            (level, format) = try Self.logSettings(environment)
        } catch {
            ServeCommand.exit(withMessage: "invalid configuration: \(error)")
        }
        ServeCommand.bootstrapLogging(level: level, format: format)
        let logger = Logger(label: "s3kv.s3-server")
        let metrics = MetricsRegistry()
        let draining = DrainState()
        let storageDescription = "\(buckets.storage)"
        let app = S3ServerApplication.make(
            buckets: buckets, configuration: configuration, logger: logger, metrics: metrics, draining: { draining.isDraining },
            tls: tls,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.info(
                    "s3kv s3-server listening on \(configuration.host):\(port)",
                    metadata: ["storage": "\(storageDescription)", "anonymous": "\(configuration.allowAnonymous)", "tls": "\(tls != nil)"]
                )
            }
        )
        // Services hear of shutdown last to first: readiness turns off before the server drains.
        let reload = ReloadService(
            actions: tls.map { certificates in
                [.init(name: "TLS certificate") { try certificates.reload(); return certificates.certificatePath }]
            } ?? [],
            logger: logger
        )
        let group = ServiceGroupConfiguration(
            services: [.init(service: app), .init(service: draining), .init(service: reload)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
        )
        try await ServiceGroup(configuration: group).run()
    }
}
