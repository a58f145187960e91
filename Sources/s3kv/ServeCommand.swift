import ArgumentParser
import Foundation
import Hummingbird
import KVServer
import KVStore
import Logging
import NIOCore
import ObjectStore
import S3
import ServerSupport
import ServiceLifecycle
import UnixSignals

/// `s3kv serve`: runs the HTTP API until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the key-value HTTP API.",
        discussion: """
            Every setting is an environment variable; a flag, when given, overrides it.

            \(Settings.variablesHelp)
            """
    )

    @Option(help: "Address to listen on (HOST).") var host: String?
    @Option(help: "Port to listen on (PORT).") var port: String?
    @Option(help: "Storage backend: s3, local or memory (KV_STORAGE).") var storage: String?
    @Option(help: "Directory of the embedded store (KV_DATA_DIR).") var dataDir: String?
    @Option(help: "Largest accepted value (KV_MAX_VALUE_BYTES).") var maxValueBytes: String?
    @Option(help: "Log level (LOG_LEVEL).") var logLevel: String?

    /// The process environment with the given flags laid over it.
    func environment(_ base: [String: String]) -> [String: String] {
        var environment = base
        let flags: [(String, String?)] = [
            ("HOST", self.host), ("PORT", self.port), ("KV_STORAGE", self.storage), ("KV_DATA_DIR", self.dataDir),
            ("KV_MAX_VALUE_BYTES", self.maxValueBytes), ("LOG_LEVEL", self.logLevel),
        ]
        for case (let name, let value?) in flags { environment[name] = value }
        return environment
    }

    func run() async throws {
        let startTime = Date()
        MemoryAllocator.configure()
        let settings: Settings
        do {
            settings = try Settings(environment: self.environment(ProcessInfo.processInfo.environment))
        } catch {
            Self.exit(withMessage: "invalid configuration: \(error)")
        }
        Self.bootstrapLogging(level: settings.logLevel, format: settings.logFormat)
        let logger = Logger(label: "s3kv")
        let metrics = KVMetrics.registry(
            help: S3Client.metricHelp.merging(ExpirySweepService.metricHelp) { first, _ in first },
            startTime: startTime
        )

        let backend: Backend
        do {
            backend = try await Backend.open(settings, logger: logger, metrics: metrics.factory)
        } catch {
            Self.exit(withMessage: "cannot open the \(settings.storage.rawValue) storage: \(error)")
        }

        // A value is accepted only if the backend can store it and hand it back whole.
        let backendCeiling = backend.objects.limits.maximumObjectBytes - KeyValueStore.objectOverheadBytes
        guard settings.server.maxValueBytes <= backendCeiling else {
            try? await backend.close()
            Self.exit(
                withMessage: "invalid configuration: KV_MAX_VALUE_BYTES: \(settings.server.maxValueBytes) bytes is more than the "
                    + "\(settings.storage.rawValue) storage can store and return whole (at most \(backendCeiling) bytes)"
            )
        }
        let store = KeyValueStore(
            objects: InstrumentedObjectStore(
                backend.objects, backend: settings.storage.rawValue, factory: metrics.factory, logger: Logger(label: "s3kv.backend")
            ),
            configuration: settings.store,
            logger: Logger(label: "s3kv.store"),
            metrics: metrics.factory
        )
        let sweeper = ExpirySweepService(
            sweeper: ExpirySweeper(store: store), interval: settings.sweepInterval, metrics: metrics.factory, logger: logger
        )
        let access = Self.accessControl(settings, logger: logger)
        let draining = DrainState(delay: settings.shutdownDrainDelay)
        let app = KVApplication.make(
            store: store,
            configuration: settings.server,
            metrics: metrics,
            logger: logger,
            services: [sweeper, access.reload],
            draining: { draining.isDraining },
            tokens: access.tokens,
            tls: access.tls,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? settings.server.port
                logger.info(
                    "s3kv listening on \(settings.server.host):\(port)",
                    metadata: [
                        "storage": "\(backend.description)", "port": .stringConvertible(port),
                        "tls": .stringConvertible(access.tls != nil), "tokens": .stringConvertible(access.tokens?.count ?? 0),
                        "startup_ms": .stringConvertible(Int(Date().timeIntervalSince(startTime) * 1000)),
                    ]
                )
            }
        )
        // Services hear of shutdown last to first: readiness turns off, the drain delay passes,
        // then the server stops accepting connections and lets requests in flight finish.
        var group = ServiceGroupConfiguration(
            services: [.init(service: app), .init(service: draining)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
        )
        group.maximumGracefulShutdownDuration = settings.shutdownTimeout
        // Past SHUTDOWN_TIMEOUT the server is cancelled: requests still running are cut off
        // (each logged), and the process still exits 0, as an orchestrator expects.
        var failure: (any Error)?
        do {
            try await ServiceGroup(configuration: group).run()
        } catch {
            failure = error
            logger.critical("s3kv failed", metadata: ["error": "\(error)"])
        }
        do {
            try await backend.close()
        } catch {
            logger.error("could not close the storage backend", metadata: ["error": "\(error)"])
            failure = failure ?? error
        }
        guard failure == nil else { throw ExitCode.failure }
        logger.info("s3kv stopped")
    }

    /// The token table and the certificate, read at start (a bad file stops start-up), and the
    /// service that reads them again on SIGHUP.
    static func accessControl(
        _ settings: Settings, logger: Logger
    ) -> (tokens: AccessTokens?, tls: TLSCertificates?, reload: ReloadService) {
        var actions: [ReloadService.Action] = []
        var tokens: AccessTokens?
        if let path = settings.tokensFile {
            do {
                let table = AccessTokens(try AccessTokenFile.load(path: path))
                actions.append(.init(name: "token file") {
                    let entries = try AccessTokenFile.load(path: path)
                    table.replace(with: entries)
                    return "\(entries.count) tokens"
                })
                tokens = table
            } catch {
                Self.exit(withMessage: "invalid configuration: KV_AUTH_TOKENS_FILE: \(error)")
            }
        } else {
            logger.warning(
                "access control is off: KV_AUTH_TOKENS_FILE is not set, so anyone who can reach this port can read, write and delete every key"
            )
        }
        var tls: TLSCertificates?
        if let files = settings.tls {
            do {
                let certificates = try files.load()
                actions.append(.init(name: "TLS certificate") {
                    try certificates.reload()
                    return certificates.certificatePath
                })
                tls = certificates
            } catch {
                Self.exit(withMessage: "invalid configuration: \(error)")
            }
        }
        return (tokens, tls, ReloadService(actions: actions, logger: logger))
    }

    /// Sends every log line to standard output in the configured format, tagged with the id of
    /// the request being served.
    static func bootstrapLogging(level: Logger.Level, format: LogFormat) {
        switch format {
        case .json:
            LoggingSystem.bootstrap(
                { label, provider in JSONLogHandler(label: label, level: level, metadataProvider: provider) },
                metadataProvider: RequestID.metadataProvider
            )
        case .text:
            LoggingSystem.bootstrap(
                { label, provider in
                    var handler = StreamLogHandler.standardOutput(label: label, metadataProvider: provider)
                    handler.logLevel = level
                    return handler
                },
                metadataProvider: RequestID.metadataProvider
            )
        }
    }

    /// Prints one line to standard error and exits with status 1.
    static func exit(withMessage message: String) -> Never {
        FileHandle.standardError.write(Data("s3kv: \(message)\n".utf8))
        Foundation.exit(1)
    }
}
