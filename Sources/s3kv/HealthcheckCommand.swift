import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// `s3kv healthcheck`: asks a running server's `/health` and exits 0 when it answers 200.
///
/// The container image's HEALTHCHECK runs this, so the slim runtime image needs no curl.
struct HealthcheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthcheck",
        abstract: "Check that a local s3kv answers /health (exit 0) or not (exit 1).",
        discussion: "Uses PORT (default 8080) on 127.0.0.1 unless --url is given."
    )

    @Option(help: "The URL to check (default http://127.0.0.1:$PORT/health).") var url: String?
    @Option(help: "Seconds to wait for the answer.") var timeout: Int = 3

    func run() async throws {
        let port = ProcessInfo.processInfo.environment["PORT"].flatMap(Int.init) ?? 8080
        let url = self.url ?? "http://127.0.0.1:\(port)/health"
        let status: UInt
        do {
            var request = HTTPClientRequest(url: url)
            request.method = .GET
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(Int64(self.timeout)))
            _ = try await response.body.collect(upTo: 64 * 1024)
            status = response.status.code
        } catch {
            print("unhealthy: \(url): \(error)")
            throw ExitCode.failure
        }
        guard status == 200 else {
            print("unhealthy: \(url) answered \(status)")
            throw ExitCode.failure
        }
        print("healthy: \(url)")
    }
}
