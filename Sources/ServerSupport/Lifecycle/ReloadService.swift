public import Logging
public import ServiceLifecycle
import UnixSignals

/// Re-reads configuration files on SIGHUP, as daemons conventionally do: the token file, the
/// TLS certificate. Connections stay open; each reload either takes effect whole or, when its
/// file is broken, leaves what is in force and logs why.
public struct ReloadService: Service {
    /// One thing to reload: its name for the log, and the reload, which returns a short
    /// summary (e.g. "3 tokens") or throws what is wrong.
    public struct Action: Sendable {
        public var name: String
        public var reload: @Sendable () throws -> String

        public init(name: String, reload: @escaping @Sendable () throws -> String) {
            self.name = name
            self.reload = reload
        }
    }

    let actions: [Action]
    let logger: Logger

    public init(actions: [Action], logger: Logger) {
        self.actions = actions
        self.logger = logger
    }

    public func run() async throws {
        // Trapping SIGHUP also stops its default action, which would end the process.
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            self.reloadAll()
        }
    }

    /// Runs every action once; what failed is logged.
    public func reloadAll() {
        for action in self.actions {
            do {
                let summary = try action.reload()
                self.logger.notice("reloaded \(action.name)", metadata: ["summary": .string(summary)])
            } catch {
                self.logger.error("could not reload \(action.name); the previous one stays in force", metadata: ["error": "\(error)"])
            }
        }
    }
}
