import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TestSupport
import Testing

/// What an operator sees of the real binary: shutdown, metrics, logs.
@Suite(.serialized) struct OperationsEndToEndTests {
    /// An upload whose body the test releases when it wants, so the request stays in flight.
    struct SlowUpload {
        let continuation: AsyncStream<ByteBuffer>.Continuation
        let response: Task<(status: UInt, body: String), any Error>

        /// Starts `PUT url` with a `length`-byte body and sends its first half now.
        init(url: String, length: Int) {
            let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
            self.continuation = continuation
            continuation.yield(ByteBuffer(repeating: UInt8(ascii: "a"), count: length / 2))
            self.response = Task {
                var request = HTTPClientRequest(url: url)
                request.method = .PUT
                request.body = .stream(stream, length: .known(Int64(length)))
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                let body = try await response.body.collect(upTo: 1 << 20)
                return (response.status.code, String(buffer: body))
            }
        }

        /// Sends the rest of the body.
        func finish(length: Int) {
            self.continuation.yield(ByteBuffer(repeating: UInt8(ascii: "b"), count: length - length / 2))
            self.continuation.finish()
        }
    }

    /// Polls `/metrics` (bounded to 10 s) until `requests` requests other than the poll itself are in flight.
    static func waitForInFlight(_ requests: Int, server: ServerProcess) async throws {
        for _ in 0..<200 {
            let metrics = try await HTTP.request(server.baseURL + "/metrics", method: .GET).text
            if prometheusSample("s3kv_http_requests_in_flight", in: metrics) == Double(requests + 1) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ServerProcessError(message: "\(requests) requests never were in flight")
    }

    /// Waits (bounded) for the process to exit; returns whether it did.
    static func waitForExit(_ server: ServerProcess, within seconds: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while server.process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        return !server.process.isRunning
    }

    @Test("SIGTERM: in-flight requests complete, new connections are refused, the process exits 0")
    func gracefulShutdown() async throws {
        // A request timeout far beyond the test's own steps: on a loaded machine they can take
        // seconds, and this test is about shutdown, not deadlines.
        let server = try ServerProcess(environment: ["KV_STORAGE": "memory", "SHUTDOWN_TIMEOUT": "20s", "KV_REQUEST_TIMEOUT": "60s"])
        let length = 64 * 1024
        let uploads = (0..<4).map { SlowUpload(url: server.baseURL + "/kv/slow-\($0)", length: length) }
        try await Self.waitForInFlight(4, server: server)

        let signalled = Date()
        kill(server.process.processIdentifier, SIGTERM)
        // The listener closes at once: a new connection is refused while the uploads still run.
        var refused = false
        for _ in 0..<100 where !refused {
            try await Task.sleep(for: .milliseconds(20))
            refused = !ServerProcess.acceptsConnections(port: server.port)
        }
        #expect(refused)
        #expect(server.process.isRunning)

        try await Task.sleep(for: .milliseconds(500))
        for upload in uploads { upload.finish(length: length) }
        for (index, upload) in uploads.enumerated() {
            let response = try await upload.response.value
            #expect(response.status == 200)
            #expect(response.body.contains(#""key":"slow-\#(index)","size":\#(length)"#))
        }
        #expect(try await Self.waitForExit(server, within: 20))
        #expect(server.process.terminationStatus == 0)
        #expect(Date().timeIntervalSince(signalled) < 20)
        #expect(server.log.contains("s3kv stopped"))
    }

    @Test("SHUTDOWN_DRAIN_DELAY: from SIGTERM on /ready is 503 while requests are still served, then connections are refused")
    func drainDelay() async throws {
        let server = try ServerProcess(environment: ["KV_STORAGE": "memory", "SHUTDOWN_DRAIN_DELAY": "3s", "SHUTDOWN_TIMEOUT": "20s"])
        #expect(try await HTTP.request(server.baseURL + "/ready", method: .GET).status == 200)
        kill(server.process.processIdentifier, SIGTERM)
        // Readiness turns off at once (bounded poll: the signal is handled asynchronously) ...
        var ready: HTTP.Response?
        for _ in 0..<50 {
            ready = try await HTTP.request(server.baseURL + "/ready", method: .GET)
            if ready?.status == 503 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(ready?.status == 503)
        #expect(ready?.text == #"{"reason":"shutting down","status":"not_ready"}"#)
        // ... while the server still takes new connections and serves them.
        #expect(ServerProcess.acceptsConnections(port: server.port))
        #expect(try await HTTP.request(server.baseURL + "/kv/during-drain", method: .PUT, body: Array("x".utf8)).status == 200)
        var refused = false
        for _ in 0..<300 where !refused {
            try await Task.sleep(for: .milliseconds(20))
            refused = !ServerProcess.acceptsConnections(port: server.port)
        }
        #expect(refused, "after the drain delay the listener closes")
        #expect(try await Self.waitForExit(server, within: 20))
        #expect(server.process.terminationStatus == 0)
    }

    @Test("SHUTDOWN_DRAIN_DELAY must be under SHUTDOWN_TIMEOUT: start-up refuses it with one line")
    func drainDelayValidated() throws {
        var environment = ProcessInfo.processInfo.environment
        environment.merge(["KV_STORAGE": "memory", "HOST": "127.0.0.1", "PORT": "0", "SHUTDOWN_DRAIN_DELAY": "30s", "SHUTDOWN_TIMEOUT": "25s"]) { $1 }
        let result = try runToCompletion(arguments: ["serve"], environment: environment)
        #expect(result.status == 1)
        #expect((result.stdout + result.stderr).contains("SHUTDOWN_DRAIN_DELAY"))
    }

    @Test("the access log names the client from X-Forwarded-For only when the peer is in KV_TRUSTED_PROXIES")
    func clientAddress() async throws {
        let trusting = try ServerProcess(environment: ["KV_STORAGE": "memory", "KV_TRUSTED_PROXIES": "127.0.0.0/8"])
        _ = try await HTTP.request(trusting.baseURL + "/kv/from-proxy", method: .PUT, headers: [("X-Forwarded-For", "203.0.113.7")], body: [1])
        #expect(trusting.stop(signal: SIGTERM) == 0)
        #expect(trusting.log.contains(#""client":"203.0.113.7""#), "\(trusting.log)")
        let wary = try ServerProcess(environment: ["KV_STORAGE": "memory"])
        _ = try await HTTP.request(wary.baseURL + "/kv/from-proxy", method: .PUT, headers: [("X-Forwarded-For", "203.0.113.7")], body: [1])
        #expect(wary.stop(signal: SIGTERM) == 0)
        #expect(wary.log.contains(#""client":"127.0.0.1""#) && !wary.log.contains("203.0.113.7"), "\(wary.log)")
        var environment = ProcessInfo.processInfo.environment
        environment.merge(["KV_STORAGE": "memory", "HOST": "127.0.0.1", "PORT": "0", "KV_TRUSTED_PROXIES": "10.0.0.0/33"]) { $1 }
        let refused = try runToCompletion(arguments: ["serve"], environment: environment)
        #expect(refused.status == 1 && (refused.stdout + refused.stderr).contains("KV_TRUSTED_PROXIES"))
    }

    @Test("SIGINT with a request that never finishes: the process exits 0 once SHUTDOWN_TIMEOUT has passed")
    func shutdownTimeout() async throws {
        let server = try ServerProcess(environment: ["KV_STORAGE": "memory", "SHUTDOWN_TIMEOUT": "1s"])
        let stalled = SlowUpload(url: server.baseURL + "/kv/stalled", length: 1024)
        try await Self.waitForInFlight(1, server: server)
        let signalled = Date()
        kill(server.process.processIdentifier, SIGINT)
        #expect(try await Self.waitForExit(server, within: 25))
        let elapsed = Date().timeIntervalSince(signalled)
        // About 1 s on an idle machine, up to 11 s in a full parallel test run on 2 cores; the
        // request never finishes, so a process that waited for it would never exit.
        #expect(elapsed >= 0.9 && elapsed < 20, "exited after \(elapsed) s")
        #expect(server.process.terminationStatus == 0)
        #expect(server.log.contains(#""message":"request cut off by shutdown""#))
        #expect(server.log.contains("s3kv stopped"))
        stalled.continuation.finish()
        _ = try? await stalled.response.value
    }

    @Test("GET /metrics passes `promtool check metrics`", .enabled(if: Tools.promtool != nil || Tools.required))
    func promtool() async throws {
        let promtool = try #require(Tools.promtool, "promtool is not installed (apt-get install --no-install-recommends prometheus)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("s3kv-e2e-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try ServerProcess(environment: ["KV_STORAGE": "local", "KV_DATA_DIR": directory.path])
        _ = try await HTTP.request(server.baseURL + "/kv/a", method: .PUT, body: Array("value".utf8))
        _ = try await HTTP.request(server.baseURL + "/kv/a", method: .GET)
        _ = try await HTTP.request(server.baseURL + "/kv/missing", method: .GET)
        _ = try await HTTP.request(server.baseURL + "/ready", method: .GET)
        let metrics = try await HTTP.request(server.baseURL + "/metrics", method: .GET)
        #expect(metrics.status == 200)
        for series in [
            #"s3kv_http_requests_total{method="PUT",route="/kv/{key}",status="200"} 1"#,
            #"s3kv_backend_requests_total{backend="local",operation="get",outcome="not_found"} 1"#,
            #"s3kv_backend_requests_total{backend="local",operation="probe",outcome="ok"} 1"#,
            "s3kv_cache_hits_total 1", "s3kv_sweeper_runs_total", "process_start_time_seconds", "s3kv_build_info",
        ] {
            #expect(metrics.text.contains(series), "missing \(series)")
        }
        let check = try run(promtool, arguments: ["check", "metrics"], input: metrics.body)
        #expect(check.status == 0, "promtool: \(check.output)")
    }

    @Test("Logs: one JSON object per line with request ids, LOG_LEVEL and LOG_FORMAT work, values never appear")
    func logs() async throws {
        let server = try ServerProcess(environment: ["KV_STORAGE": "memory", "LOG_LEVEL": "debug"])
        let put = try await HTTP.request(
            server.baseURL + "/kv/logged", method: .PUT, headers: [("X-Request-ID", "e2e-42")], body: Array("VALUE-MARKER-5521".utf8)
        )
        #expect(put.status == 200)
        let badID = try await HTTP.request(server.baseURL + "/kv/logged", method: .GET, headers: [("X-Request-ID", "has spaces")])
        let generated = try #require(badID.headers.first { $0.0.lowercased() == "x-request-id" }?.1)
        #expect(generated.count == 32 && generated != "has spaces")
        #expect(server.stop(signal: SIGTERM) == 0)

        let lines = server.log.split(separator: "\n")
        let objects = try lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
        }
        #expect(objects.allSatisfy { ($0["timestamp"] as? String)?.hasSuffix("Z") == true && $0["level"] != nil && $0["message"] != nil })
        let access = try #require(objects.first { $0["message"] as? String == "request" && $0["request_id"] as? String == "e2e-42" })
        #expect(access["method"] as? String == "PUT" && access["route"] as? String == "/kv/{key}" && access["status"] as? Int == 200)
        #expect(objects.contains { $0["logger"] as? String == "s3kv.backend" && $0["request_id"] as? String == "e2e-42" })
        #expect(objects.contains { $0["message"] as? String == "request" && $0["request_id"] as? String == generated })
        #expect(!server.log.contains("VALUE-MARKER"))

        // LOG_FORMAT=text for terminals; LOG_LEVEL=warning leaves out the info-level access lines.
        let text = try ServerProcess(environment: ["KV_STORAGE": "memory", "LOG_FORMAT": "text"])
        _ = try await HTTP.request(text.baseURL + "/kv/x", method: .GET, headers: [("X-Request-ID", "text-1")])
        #expect(text.stop(signal: SIGTERM) == 0)
        #expect(text.log.contains("request_id=text-1") && !text.log.hasPrefix("{"))
        let quiet = try ServerProcess(environment: ["KV_STORAGE": "memory", "LOG_LEVEL": "warning"], fixedPort: try ServerProcess.freePort())
        _ = try await HTTP.request(quiet.baseURL + "/kv/x", method: .GET)
        #expect(quiet.stop(signal: SIGTERM) == 0)
        #expect(!quiet.log.contains("\"request\""))
    }
}

/// External tools some tests use; `scripts/test` installs them and sets S3KV_TEST_REQUIRE_TOOLS=1,
/// so they are never skipped there.
enum Tools {
    static let required = ProcessInfo.processInfo.environment["S3KV_TEST_REQUIRE_TOOLS"] == "1"
    static let promtool = executable(named: "promtool")
    static let nginx = executable(named: "nginx") ?? (FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx") ? "/usr/sbin/nginx" : nil)

    static func executable(named name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Runs `executable` with `input` on standard input (bounded to 30 s); returns its status and output.
func run(_ executable: String, arguments: [String], input: [UInt8]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let stdin = Pipe()
    let output = Pipe()
    process.standardInput = stdin
    process.standardOutput = output
    process.standardError = output
    try process.run()
    stdin.fileHandleForWriting.write(Data(input))
    try stdin.fileHandleForWriting.close()
    let deadline = Date().addingTimeInterval(30)
    while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
}
