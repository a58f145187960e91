/// The instant by which the work in this task must be done, carried as a task-local value so it
/// reaches every layer without threading a parameter through each call.
///
/// The HTTP server sets it for each request (`KV_REQUEST_TIMEOUT`); background work (the sweeper)
/// sets its own. Backends cap each request's timeout at the time remaining, never start a retry
/// that cannot finish in time, and waits in queues end at it: a request is answered within its
/// deadline whatever the backend does.
public enum Deadline {
    @TaskLocal public static var current: ContinuousClock.Instant?

    /// The time left before the current deadline, or nil without one.
    public static var remaining: Duration? {
        self.current.map { $0 - ContinuousClock.now }
    }

    /// Whether the current deadline has passed.
    public static var hasPassed: Bool {
        (self.remaining ?? .seconds(1)) <= .zero
    }

    /// Runs `body` with no deadline, for work started on behalf of a request that must outlive it
    /// (an unstructured task copies its creator's task-local values, deadline included).
    public static func withoutDeadline<Result>(_ body: () async throws -> Result) async rethrows -> Result {
        try await self.$current.withValue(nil) { try await body() }
    }

    /// Runs `body` with a deadline `timeout` from now, or the current one if that is sooner.
    public static func withTimeout<Result>(_ timeout: Duration, _ body: () async throws -> Result) async rethrows -> Result {
        let proposed = ContinuousClock.now + timeout
        let deadline = self.current.map { min($0, proposed) } ?? proposed
        return try await self.$current.withValue(deadline) { try await body() }
    }
}
