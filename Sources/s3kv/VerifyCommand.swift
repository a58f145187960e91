import ArgumentParser
import Foundation
import KVVerify

/// `s3kv verify`: the API's workflows against a running deployment, one report line per check.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a running s3kv deployment: run the API's workflows against it and report.",
        discussion: """
            Every key written is under a random prefix (verify-<hex>/) and removed at the end. \
            Exits 0 only when every check passes (and, with a load phase, no acknowledged write \
            was lost and no more requests failed than --allow-errors). Checks: \
            \(Verifier.checkNames.joined(separator: ", ")).
            """
    )

    @Option(help: "The deployment's base URL.") var url = "http://127.0.0.1:8080"
    @Flag(help: "Print the report as JSON instead of text.") var json = false
    @Option(help: "Workers of a load phase after the checks (default 8 when --duration is given).") var concurrency: Int?
    @Option(help: "Seconds of the load phase (default 10 when --concurrency is given).") var duration: Int?
    @Option(help: "Failed requests the load phase may see and still pass.") var allowErrors = 0
    @Option(help: "Run only these checks (comma-separated names).") var only: String?
    @Option(help: "Seconds one request may take.") var timeout = 30
    @Option(help: "Bytes of the value written over the cache limit.") var largeValueBytes = (2 << 20) + 17
    @Option(help: "The key prefix to work under (default: verify-<random hex>/).") var prefix: String?
    @Option(help: "A bearer token with the write scope, for a deployment with access control (or S3KV_TOKEN, which ps does not show).")
    var token: String?

    func validate() throws {
        guard self.url.hasPrefix("http://") || self.url.hasPrefix("https://") else {
            throw ValidationError("--url must start with http:// or https://, not \(self.url)")
        }
        if let concurrency, !(1...1000).contains(concurrency) { throw ValidationError("--concurrency must be 1 to 1000") }
        if let duration, !(1...3600).contains(duration) { throw ValidationError("--duration must be 1 to 3600 seconds") }
        guard (1...3600).contains(self.timeout) else { throw ValidationError("--timeout must be 1 to 3600 seconds") }
        guard (0...(256 << 20) - 1).contains(self.largeValueBytes) else { throw ValidationError("--large-value-bytes must be under 256 MiB") }
        let names = self.onlyNames.subtracting(Verifier.checkNames)
        guard names.isEmpty else {
            throw ValidationError("no such check: \(names.sorted().joined(separator: ", ")); checks: \(Verifier.checkNames.joined(separator: ", "))")
        }
    }

    private var onlyNames: Set<String> {
        Set((self.only ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    func run() async throws {
        var load: VerifyConfiguration.Load?
        if self.concurrency != nil || self.duration != nil {
            load = .init(concurrency: self.concurrency ?? 8, duration: .seconds(self.duration ?? 10), allowedErrors: self.allowErrors)
        }
        let configuration = VerifyConfiguration(
            url: self.url, prefix: self.prefix, requestTimeout: .seconds(self.timeout), largeValueBytes: self.largeValueBytes,
            only: self.onlyNames, load: load,
            headers: (self.token ?? ProcessInfo.processInfo.environment["S3KV_TOKEN"]).map { [("authorization", "Bearer \($0)")] } ?? []
        )
        let showProgress = !self.json && isatty(STDERR_FILENO) == 1
        let report = await Verifier(configuration: configuration).run { progress in
            guard showProgress else { return }
            let text: String
            switch progress {
            case .checking(let name, let index, let count): text = "[\(index)/\(count)] \(name)"
            case .loading(let seconds): text = "load phase, \(seconds) s"
            case .cleaningUp: text = "cleaning up"
            }
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(text) …".utf8))
        }
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        if self.json {
            FileHandle.standardOutput.write(try report.json())
            print()
        } else {
            print(report.text)
        }
        if !report.passed { throw ExitCode.failure }
    }
}
