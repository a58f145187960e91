import ArgumentParser
import Foundation
import Hummingbird
import KVServer
import KVStore
import Logging
import NIOCore
import ObjectStore

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
        let settings: Settings
        do {
            settings = try Settings(environment: self.environment(ProcessInfo.processInfo.environment))
        } catch {
            Self.exit(withMessage: "invalid configuration: \(error)")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = settings.logLevel
            return handler
        }
        let logger = Logger(label: "s3kv")

        let backend: Backend
        do {
            backend = try await Backend.open(settings, logger: logger)
        } catch {
            Self.exit(withMessage: "cannot open the \(settings.storage.rawValue) storage: \(error)")
        }

        let store = KeyValueStore(objects: backend.objects, configuration: settings.store, logger: logger)
        let sweeper = ExpirySweepService(sweeper: ExpirySweeper(store: store), interval: settings.sweepInterval, logger: logger)
        let app = KVApplication.make(
            store: store,
            configuration: settings.server,
            logger: logger,
            services: [sweeper],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? settings.server.port
                logger.info(
                    "s3kv listening on \(settings.server.host):\(port)",
                    metadata: ["storage": "\(backend.description)", "port": "\(port)"]
                )
            }
        )
        do {
            try await app.runService()
        } catch {
            try? await backend.close()
            throw error
        }
        try await backend.close()
    }

    /// Prints one line to standard error and exits with status 1.
    static func exit(withMessage message: String) -> Never {
        FileHandle.standardError.write(Data("s3kv: \(message)\n".utf8))
        Foundation.exit(1)
    }
}
