public import AsyncHTTPClient
import NIOHTTP1

/// `s3kv verify`: runs the API's workflows against a live deployment, each on keys of its own
/// under a random prefix, then removes every key it wrote and reports.
///
/// The workflows are the rules a client relies on (a write is read back, versions count up,
/// conditions hold under contention, expired values are gone, listings are exact), checked from
/// the outside through HTTP only, so the same run validates one process, a cluster behind a load
/// balancer, or a deployment in another region.
public struct Verifier: Sendable {
    public let configuration: VerifyConfiguration
    let client: KVClient

    /// The names of every check, in the order they run.
    public static var checkNames: [String] { checks.map(\.name) }

    static let checks: [Check] = ValueChecks.all + ConditionChecks.all + ExpiryChecks.all + VersionChecks.all
        + CollectionChecks.all + ErrorChecks.all

    public init(configuration: VerifyConfiguration, httpClient: HTTPClient = .shared) {
        self.configuration = configuration
        self.client = KVClient(
            baseURL: configuration.url, httpClient: httpClient, timeout: configuration.requestTimeout, headers: configuration.headers
        )
    }

    /// What the run is doing, for a progress indicator.
    public enum Progress: Sendable {
        case checking(name: String, index: Int, of: Int)
        case loading(seconds: Int)
        case cleaningUp
    }

    public func run(progress: @Sendable (Progress) -> Void = { _ in }) async -> VerifyReport {
        let context = CheckContext(client: self.client, prefix: self.configuration.prefix, largeValueBytes: self.configuration.largeValueBytes)
        let selected = Self.checks.filter { self.configuration.only.isEmpty || self.configuration.only.contains($0.name) }
        let clock = ContinuousClock()
        // One question first, so an unreachable deployment is one clear line instead of a
        // timeout per check.
        let start = clock.now
        do {
            let probe = KVClient(baseURL: self.client.baseURL, httpClient: self.client.httpClient, timeout: .seconds(5), headers: self.client.headers)
            try await probe.send(.GET, "/health").expect(200, "the liveness probe")
        } catch {
            let detail = (error as? CheckFailure)?.message ?? "no answer from \(self.configuration.url)/health: \(error)"
            let result = CheckResult(
                name: "reachable", summary: "the deployment answers /health", passed: false,
                milliseconds: LoadPhase.milliseconds(clock.now - start), detail: detail
            )
            return VerifyReport(url: self.configuration.url, prefix: context.prefix, checks: [result], load: nil, leftoverKeys: 0, passed: false)
        }
        var results: [CheckResult] = []
        for (index, check) in selected.enumerated() {
            progress(.checking(name: check.name, index: index + 1, of: selected.count))
            let start = clock.now
            var result = CheckResult(name: check.name, summary: check.summary, passed: true, milliseconds: 0, detail: nil)
            do {
                result.detail = try await check.run(context)
            } catch let failure as CheckFailure {
                result.passed = false
                result.detail = failure.message
            } catch {
                result.passed = false
                result.detail = "no answer: \(error)"
            }
            result.milliseconds = LoadPhase.milliseconds(clock.now - start)
            results.append(result)
        }
        var load: LoadReport?
        if let phase = self.configuration.load {
            progress(.loading(seconds: Int(phase.duration.components.seconds)))
            load = await LoadPhase(client: self.client, prefix: context.prefix, concurrency: phase.concurrency, duration: phase.duration).run()
        }
        progress(.cleaningUp)
        let leftovers = await Cleanup(context: context).run()
        var passed = results.allSatisfy(\.passed) && leftovers == 0
        if let load, let phase = self.configuration.load {
            passed = passed && load.lostWrites == 0 && load.unverifiable == 0 && load.errorCount <= phase.allowedErrors
        }
        return VerifyReport(
            url: self.configuration.url, prefix: context.prefix, checks: results, load: load, leftoverKeys: leftovers, passed: passed
        )
    }
}
