public import Foundation

/// Everything one `s3kv verify` run found: a result per check, and the load phase when asked.
public struct VerifyReport: Sendable, Codable, Equatable {
    public var url: String
    public var prefix: String
    public var checks: [CheckResult]
    public var load: LoadReport?
    /// Keys under the run's prefix that the clean-up could not remove; -1 when it could not list them.
    public var leftoverKeys: Int

    /// True only when every check passed, the load phase (if any) lost nothing and stayed within
    /// its error allowance, and the clean-up left nothing behind.
    public var passed: Bool

    enum CodingKeys: String, CodingKey {
        case url, prefix, checks, load, passed
        case leftoverKeys = "leftover_keys"
    }

    /// The report as JSON, keys sorted.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try encoder.encode(self)
    }

    /// The report for people: a line per check, then the load phase and the verdict.
    public var text: String {
        let width = max(12, self.checks.map(\.name.count).max() ?? 0)
        var lines = ["s3kv verify \(self.url) (keys under \(self.prefix))"]
        for check in self.checks {
            let name = check.name.padding(toLength: width, withPad: " ", startingAt: 0)
            let time = String(format: "%7.0f ms", check.milliseconds)
            lines.append("  \(check.passed ? "PASS" : "FAIL")  \(name) \(time)  \(check.detail ?? "")".trimmingTrailingSpaces())
        }
        if let load = self.load {
            let errors = load.errors.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: ", ")
            let rate = String(format: "%.1f s: %d requests (%.0f/s), p50 %.2f ms, p99 %.2f ms", load.seconds, load.requests, load.requestsPerSecond, load.p50Milliseconds, load.p99Milliseconds)
            var line = "  load: \(load.concurrency) workers for \(rate); \(load.errorCount) errors"
            if !errors.isEmpty { line += " (\(errors))" }
            line += "; \(load.acknowledgedWrites) writes acknowledged, \(load.lostWrites) lost"
            if load.unverifiable > 0 { line += ", \(load.unverifiable) keys unreadable at the end" }
            lines.append(line)
        }
        if self.leftoverKeys > 0 { lines.append("  clean-up left \(self.leftoverKeys) keys under \(self.prefix)") }
        if self.leftoverKeys < 0 { lines.append("  clean-up could not list the keys under \(self.prefix)") }
        let passed = self.checks.filter(\.passed).count
        lines.append("\(self.passed ? "PASSED" : "FAILED"): \(passed) of \(self.checks.count) checks passed")
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
