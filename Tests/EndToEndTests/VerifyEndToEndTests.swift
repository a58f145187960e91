import Foundation
import NIOHTTP1
import Testing

/// `s3kv verify` run as a user runs it: the binary against a live server on each backend, and
/// against a server whose setting breaks a rule the checks hold it to.
@Suite("s3kv verify against live servers")
struct VerifyEndToEndTests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var report: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(self.stdout.utf8)) as? [String: Any] }
        var checks: [[String: Any]] { self.report?["checks"] as? [[String: Any]] ?? [] }
        func check(_ name: String) -> [String: Any]? { self.checks.first { $0["name"] as? String == name } }
    }

    /// Runs `s3kv verify` to completion, polling without blocking a thread (bounded to 120 s).
    static func verify(_ arguments: [String]) async throws -> Run {
        let process = Process()
        process.executableURL = ServerProcess.binary
        process.arguments = ["verify"] + arguments
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        for _ in 0..<2400 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            stdout: String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
            stderr: String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        )
    }

    enum Backend: String, CaseIterable, CustomTestStringConvertible {
        case memory, embedded, s3
        var testDescription: String { self.rawValue }

        func environment(directory: String) throws -> [String: String] {
            switch self {
            case .memory: return ["KV_STORAGE": "memory"]
            case .embedded: return ["KV_STORAGE": "local", "KV_DATA_DIR": directory, "KV_VERSION_HISTORY": "3"]
            case .s3:
                let endpoint = try #require(S3Servers.endpoint, "S3KV_TEST_S3_ENDPOINT is not set; run the tests with scripts/test")
                return [
                    "S3_ENDPOINT": endpoint, "S3_BUCKET": "verify-\(UUID().uuidString.lowercased())", "S3_ACCESS_KEY": S3Servers.accessKey,
                    "S3_SECRET_KEY": S3Servers.secretKey, "S3_CREATE_BUCKET": "true", "KV_VERSION_HISTORY": "2",
                ]
            }
        }

        static var available: [Backend] { S3Servers.enabled ? allCases : [.memory, .embedded] }
    }

    @Test("every check passes on each backend, with a load phase that loses no write, and the run leaves no key behind", arguments: Backend.available)
    func passes(backend: Backend) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("s3kv-verify-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try ServerProcess(environment: try backend.environment(directory: directory))
        let run = try await Self.verify(["--url", server.baseURL, "--json", "--concurrency", "4", "--duration", "2"])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.report?["passed"] as? Bool == true)
        #expect(run.checks.count >= 16)
        for check in run.checks {
            #expect(check["passed"] as? Bool == true, "\(check["name"] ?? "?"): \(check["detail"] ?? "")")
        }
        let history = run.check("versions")?["detail"] as? String
        #expect(history == (backend == .memory ? "history off" : "history on, 3 versions readable"))
        let load = try #require(run.report?["load"] as? [String: Any])
        #expect((load["requests"] as? Int ?? 0) > 0 && (load["acknowledged_writes"] as? Int ?? 0) > 0)
        #expect(load["lost_writes"] as? Int == 0)
        #expect(run.report?["leftover_keys"] as? Int == 0)
        // Nothing is left under any verify prefix.
        let listing = try await HTTP.request(server.baseURL + "/kv?prefix=verify-", method: .GET)
        #expect(listing.text.contains(#""items":[]"#), "\(listing.text)")
    }

    @Test("a server that breaks a rule fails the run: exit 1, the broken check named with what came back")
    func failsClearly() async throws {
        // Values are capped below the 2 MiB the large-value check writes.
        let server = try ServerProcess(environment: ["KV_STORAGE": "memory", "KV_MAX_VALUE_BYTES": "1MiB"])
        let text = try await Self.verify(["--url", server.baseURL, "--only", "put_get,large_value"])
        #expect(text.status == 1)
        #expect(text.stdout.contains("PASS  put_get"))
        #expect(text.stdout.contains("FAIL  large_value"))
        #expect(text.stdout.contains("answered 413 value_too_large, expected 200"), "\(text.stdout)")
        #expect(text.stdout.contains("FAILED: 1 of 2 checks passed"))

        let json = try await Self.verify(["--url", server.baseURL, "--only", "large_value", "--json"])
        #expect(json.status == 1)
        #expect(json.report?["passed"] as? Bool == false)
        #expect(json.check("large_value")?["passed"] as? Bool == false)

        let unreachable = try await Self.verify(["--url", "http://127.0.0.1:\(try ServerProcess.freePort())"])
        #expect(unreachable.status == 1)
        #expect(unreachable.stdout.contains("FAIL  reachable"))

        let badUsage = try await Self.verify(["--url", "ftp://example", "--only", "no_such_check"])
        #expect(badUsage.status != 0 && !badUsage.stderr.isEmpty)
    }
}
