import KVStore
import Logging
import ServiceLifecycle

/// Runs the expiry sweeper every `interval` until graceful shutdown. A failed pass (backend
/// down) is logged and retried at the next interval; reads hide expired values meanwhile.
struct ExpirySweepService: Service {
    let sweeper: ExpirySweeper
    let interval: Duration
    let logger: Logger

    func run() async {
        // Shutdown cancels the wait; a pass under way finishes first (its steps are short).
        await cancelWhenGracefulShutdown {
            while true {
                do {
                    try await Task.sleep(for: self.interval)
                } catch {
                    return
                }
                await self.pass()
            }
        }
    }

    private func pass() async {
        do {
            let report = try await self.sweeper.sweep()
            guard report.examined > 0 else { return }
            self.logger.info(
                "expiry sweep",
                metadata: [
                    "examined": "\(report.examined)", "reclaimed": "\(report.reclaimed)", "stale": "\(report.stale)",
                    "more": "\(report.hasMore)",
                ]
            )
        } catch {
            self.logger.warning("expiry sweep failed; retrying at the next interval", metadata: ["error": "\(error)"])
        }
    }
}
