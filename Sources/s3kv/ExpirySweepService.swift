import CoreMetrics
import KVStore
import Logging
import ObjectStore
import ServiceLifecycle

/// Runs the expiry sweeper every `interval` until graceful shutdown. A failed pass (backend
/// down) is logged and retried at the next interval; reads hide expired values meanwhile.
struct ExpirySweepService: Service, CustomStringConvertible {
    static let metricHelp = [
        "s3kv_sweeper_runs_total": "Passes of the expiry sweeper, by outcome.",
        "s3kv_sweeper_reclaimed_values_total": "Expired values the sweeper deleted.",
        "s3kv_sweeper_stale_entries_total": "Expiry index entries dropped because their value had changed or gone.",
        "s3kv_sweeper_failed_entries_total": "Expiry index entries the backend failed on; they are tried again on the next pass.",
        "s3kv_sweeper_run_duration_seconds": "Time taken by a pass of the expiry sweeper.",
    ]

    /// The least time a pass may take before its deadline, however short the interval.
    static let minimumPassBudget = Duration.seconds(30)

    let sweeper: ExpirySweeper
    let interval: Duration
    let logger: Logger
    private let succeeded: CoreMetrics.Counter
    private let failed: CoreMetrics.Counter
    private let reclaimed: CoreMetrics.Counter
    private let stale: CoreMetrics.Counter
    private let failedEntries: CoreMetrics.Counter
    private let duration: CoreMetrics.Timer

    init(sweeper: ExpirySweeper, interval: Duration, metrics: any MetricsFactory, logger: Logger) {
        self.sweeper = sweeper
        self.interval = interval
        self.logger = logger
        self.succeeded = Counter(label: "s3kv_sweeper_runs_total", dimensions: [("outcome", "ok")], factory: metrics)
        self.failed = Counter(label: "s3kv_sweeper_runs_total", dimensions: [("outcome", "error")], factory: metrics)
        self.reclaimed = Counter(label: "s3kv_sweeper_reclaimed_values_total", factory: metrics)
        self.stale = Counter(label: "s3kv_sweeper_stale_entries_total", factory: metrics)
        self.failedEntries = Counter(label: "s3kv_sweeper_failed_entries_total", factory: metrics)
        self.duration = CoreMetrics.Timer(label: "s3kv_sweeper_run_duration_seconds", factory: metrics)
    }

    /// The name service-lifecycle logs.
    var description: String { "ExpirySweepService" }

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
        let start = ContinuousClock.now
        defer { self.duration.recordNanoseconds(Int64((ContinuousClock.now - start) / .nanoseconds(1))) }
        do {
            // A pass has a budget of its own, so a slow backend cannot keep one going forever.
            let report = try await Deadline.withTimeout(max(self.interval, Self.minimumPassBudget)) { try await self.sweeper.sweep() }
            self.succeeded.increment()
            self.reclaimed.increment(by: Int64(report.reclaimed))
            self.stale.increment(by: Int64(report.stale))
            self.failedEntries.increment(by: Int64(report.failed))
            guard report.examined > 0 else { return }
            self.logger.info(
                "expiry sweep",
                metadata: [
                    "examined": "\(report.examined)", "reclaimed": "\(report.reclaimed)", "stale": "\(report.stale)",
                    "failed": "\(report.failed)",
                    "more": "\(report.hasMore)",
                ]
            )
        } catch {
            self.failed.increment()
            self.logger.warning("expiry sweep failed; retrying at the next interval", metadata: ["error": "\(error)"])
        }
    }
}
