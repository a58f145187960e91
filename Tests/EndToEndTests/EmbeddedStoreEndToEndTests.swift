import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TestSupport
import Testing

/// The real binary over real HTTP on the embedded store.
@Suite(.serialized) struct EmbeddedStoreEndToEndTests {
    @Test("every acknowledged write survives SIGKILL and a restart on the same data directory")
    func survivesSIGKILL() async throws {
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("s3kv-e2e-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let environment = ["KV_STORAGE": "local", "KV_DATA_DIR": dataDirectory]
        var generator = SystemRandomNumberGenerator()

        var acknowledged: [String: [UInt8]] = [:]
        let first = try ServerProcess(environment: environment)
        for index in 0..<200 {
            let key = "e2e/\(index)/ключ"
            let value = (0..<Int.random(in: 0...2048, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let response = try await HTTP.request("\(first.baseURL)/kv/\(HTTP.escape(key))", method: .PUT, body: value)
            try #require(response.status == 200, "PUT \(key): \(response.status) \(response.text)")
            acknowledged[key] = value
        }
        // Kill right after the last acknowledgement: no shutdown work may be needed for durability.
        first.stop(signal: SIGKILL)

        let second = try ServerProcess(environment: environment)
        for (key, value) in acknowledged {
            let response = try await HTTP.request("\(second.baseURL)/kv/\(HTTP.escape(key))", method: .GET)
            #expect(response.status == 200, "GET \(key)")
            #expect(response.body == value, "GET \(key)")
        }
        let missing = try await HTTP.request("\(second.baseURL)/kv/never-written", method: .GET)
        #expect(missing.status == 404)
        #expect(missing.text.contains(#""code":"key_not_found""#))
        #expect(second.stop(signal: SIGTERM) == 0, "graceful exit on SIGTERM; log:\n\(second.log)")
    }

    @Test("a bad setting stops start-up with one line naming the variable", arguments: [
        ("PORT", "http"), ("PORT", "70000"), ("KV_STORAGE", "floppy"), ("KV_MAX_VALUE_BYTES", "lots"), ("LOG_LEVEL", "loud"),
        ("KV_CACHE_BYTES", "-1"), ("KV_CACHE_MAX_VALUE_BYTES", "0"), ("KV_CACHE_MAX_STALENESS", "soon"),
        ("KV_VERSION_HISTORY", "1000"), ("KV_SWEEP_INTERVAL", "0"),
    ])
    func badConfiguration(_ variable: String, _ value: String) throws {
        var environment = ["KV_STORAGE": "memory", "PORT": "0", "HOST": "127.0.0.1"]
        environment[variable] = value
        let result = try runToCompletion(arguments: ["serve"], environment: environment)
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(lines.first?.contains("\(variable): expected") == true, "\(result.stderr)")
        #expect(!result.stdout.contains("listening"))
    }

    @Test("KV_MAX_VALUE_BYTES above what the backend can store and return whole stops start-up")
    func valueLimitAboveTheBackend() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("s3kv-limit-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // The memory store holds at most 2 GiB in one value; 3 GiB would be acknowledged and unreadable.
        let result = try runToCompletion(arguments: ["serve"], environment: [
            "KV_STORAGE": "memory", "KV_DATA_DIR": directory, "KV_MAX_VALUE_BYTES": "3GiB", "KV_BUFFER_BYTES": "16GiB", "PORT": "0",
            "HOST": "127.0.0.1",
        ])
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("KV_MAX_VALUE_BYTES") && lines[0].contains("at most"), "\(result.stderr)")
        #expect(!result.stdout.contains("listening"))
    }

    @Test("`s3kv healthcheck` (the image's HEALTHCHECK) exits 0 for a serving server and 1 otherwise")
    func healthcheckCommand() throws {
        let server = try ServerProcess(environment: ["KV_STORAGE": "memory"])
        let healthy = try runToCompletion(arguments: ["healthcheck"], environment: ["PORT": "\(server.port)"])
        #expect(healthy.status == 0, "\(healthy.stdout)")
        #expect(healthy.stdout.contains("healthy: http://127.0.0.1:\(server.port)/health"))
        #expect(server.stop(signal: SIGTERM) == 0)

        let down = try runToCompletion(arguments: ["healthcheck", "--url", "http://127.0.0.1:\(server.port)/health"], environment: [:])
        #expect(down.status == 1)
        #expect(down.stdout.contains("unhealthy"))
    }

    @Test("--help documents every setting")
    func help() throws {
        let result = try runToCompletion(arguments: ["serve", "--help"], environment: [:])
        #expect(result.status == 0)
        for variable in [
            "HOST", "PORT", "KV_STORAGE", "KV_DATA_DIR", "KV_MAX_VALUE_BYTES", "LOG_LEVEL", "KV_CACHE_BYTES",
            "KV_CACHE_MAX_VALUE_BYTES", "KV_CACHE_MAX_STALENESS", "KV_VERSION_HISTORY", "KV_SWEEP_INTERVAL",
        ] {
            #expect(result.stdout.contains(variable), "\(variable) missing from --help")
        }
    }
}
