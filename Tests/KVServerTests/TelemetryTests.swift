import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KVServer
import Logging
import LocalStores
import ObjectStore
import ServerSupport
import Synchronization
import Testing
import TestSupport

@Suite("Metrics")
struct MetricsTests {
    /// The exposition as text.
    static func text(_ metrics: MetricsRegistry) -> String {
        String(decoding: metrics.exposition(), as: UTF8.self)
    }

    @Test("HTTP requests are counted by method, route template and status, never by raw key")
    func httpRequests() async throws {
        let metrics = KVMetrics.registry()
        try await withAPI(metrics: metrics) { client in
            _ = try await client.execute(uri: "/kv/private%20name", method: .put, body: ByteBuffer(string: "v"))
            _ = try await client.execute(uri: "/kv/private%20name", method: .get)
            _ = try await client.execute(uri: "/kv/other-private-name", method: .get)
            _ = try await client.execute(uri: "/kv/other-private-name", method: .get)
            _ = try await client.execute(uri: "/no/such/path", method: .get)
        }
        let text = Self.text(metrics)
        #expect(text.contains(#"s3kv_http_requests_total{method="PUT",route="/kv/{key}",status="200"} 1"#))
        #expect(text.contains(#"s3kv_http_requests_total{method="GET",route="/kv/{key}",status="200"} 1"#))
        #expect(text.contains(#"s3kv_http_requests_total{method="GET",route="/kv/{key}",status="404"} 2"#))
        #expect(text.contains(#"s3kv_http_requests_total{method="GET",route="unmatched",status="404"} 1"#))
        #expect(text.contains(#"s3kv_http_request_duration_seconds_count{method="GET",route="/kv/{key}"} 3"#))
        #expect(text.contains("s3kv_http_requests_in_flight 0.0"))
        #expect(!text.contains("private"))
    }

    @Test("Backend requests are counted by operation and outcome; cache hits and misses are counted")
    func backendAndCache() async throws {
        let metrics = KVMetrics.registry()
        let objects = InstrumentedObjectStore(MemoryObjectStore(), backend: "memory", factory: metrics.factory)
        // A stopped clock: on a loaded machine the cached entry must not go stale between requests.
        let clock = ManualClock()
        try await withAPI(objects: objects, clock: clock.storeClock, metrics: metrics) { client in
            _ = try await client.execute(uri: "/kv/a", method: .put, body: ByteBuffer(string: "value"))
            _ = try await client.execute(uri: "/kv/a", method: .get)
            _ = try await client.execute(uri: "/kv/missing", method: .get)
        }
        let text = Self.text(metrics)
        // A new key is one conditional PUT; the read of `a` is a cache hit; the miss is one GET.
        #expect(text.contains(#"s3kv_backend_requests_total{backend="memory",operation="put",outcome="ok"} 1"#))
        #expect(text.contains(#"s3kv_backend_requests_total{backend="memory",operation="get",outcome="not_found"} 1"#))
        #expect(text.contains(#"s3kv_backend_requests_total{backend="memory",operation="get",outcome="ok"} 0"#))
        #expect(text.contains(#"s3kv_backend_request_duration_seconds_count{backend="memory",operation="put"} 1"#))
        #expect(text.contains("s3kv_cache_hits_total 1"))
        #expect(text.contains("s3kv_cache_misses_total 1"))
        #expect(text.contains("s3kv_cache_entries 1.0"))
    }

    @Test("GET /metrics serves the text format, with a help text for every metric")
    func exposition() async throws {
        let metrics = KVMetrics.registry(startTime: Date(timeIntervalSince1970: 1_700_000_000))
        let objects = InstrumentedObjectStore(MemoryObjectStore(), backend: "memory", factory: metrics.factory)
        // A stopped clock: on a loaded machine the cached entry must not go stale between requests.
        let clock = ManualClock()
        try await withAPI(objects: objects, clock: clock.storeClock, metrics: metrics) { client in
            _ = try await client.execute(uri: "/kv/a", method: .put, body: ByteBuffer(string: "value"))
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            let lines = response.text.split(separator: "\n")
            let typed = Set(lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] })
            let helped = Set(lines.filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] })
            #expect(!typed.isEmpty)
            #expect(typed == helped)
            #expect(response.text.contains("process_start_time_seconds 1700000000.0"))
            #expect(response.text.contains(#"s3kv_build_info{version="\#(BuildInfo.version)"} 1.0"#))
        }
    }
}

/// Collects log lines in memory.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])

    var output: LogOutput { LogOutput { line in self.lines.withLock { $0.append(line) } } }
    var all: [String] { self.lines.withLock { $0 } }

    /// The lines parsed as JSON objects.
    func objects() throws -> [[String: Any]] {
        try self.all.map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
            return try #require(object as? [String: Any])
        }
    }

    func logger(label: String = "s3kv", level: Logger.Level = .debug) -> Logger {
        Logger(label: label) { label in
            JSONLogHandler(label: label, level: level, metadataProvider: RequestID.metadataProvider, output: self.output)
        }
    }
}

@Suite("JSON logs")
struct JSONLogTests {
    static let instant = Date(timeIntervalSince1970: 1_700_000_000.123)

    @Test("One line per event: UTC timestamp, level, message, logger, then metadata in key order")
    func exactLine() {
        let lines = LogLines()
        let logger = Logger(label: "s3kv.test") { label in JSONLogHandler(label: label, output: lines.output, now: { Self.instant }) }
        logger.info("hello", metadata: ["status": .stringConvertible(200), "path": "/kv/a", "ratio": .stringConvertible(0.5)])
        #expect(
            lines.all == [
                #"{"timestamp":"2023-11-14T22:13:20.123Z","level":"info","message":"hello","logger":"s3kv.test","path":"/kv/a","ratio":0.5,"status":200}"#
                    + "\n"
            ]
        )
    }

    @Test("Every string is escaped so the line parses back to the same text")
    func escaping() throws {
        let lines = LogLines()
        let logger = Logger(label: "s3kv.test") { label in JSONLogHandler(label: label, output: lines.output) }
        let nasty = "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{07} del \u{7F} sep \u{2028} é 🔑 </script>"
        logger.warning("\(nasty)", metadata: [nasty: .string(nasty), "list": .array([.string(nasty), .stringConvertible(1)])])
        #expect(lines.all.count == 1)
        #expect(lines.all[0].filter { $0 == "\n" }.count == 1)
        let object = try #require(try lines.objects().first)
        #expect(object["message"] as? String == nasty)
        #expect(object[nasty] as? String == nasty)
        #expect((object["list"] as? [Any])?.first as? String == nasty)
        #expect(object["level"] as? String == "warning")
    }

    @Test("Metadata cannot overwrite the fixed fields")
    func reservedKeys() throws {
        let lines = LogLines()
        lines.logger().info("real", metadata: ["message": "forged", "level": "forged"])
        let object = try #require(try lines.objects().first)
        #expect(object["message"] as? String == "real")
        #expect(object["level"] as? String == "info")
    }

    @Test("While a request is served, every logger tags its lines with the request id")
    func requestIDFromTaskLocal() throws {
        let lines = LogLines()
        let storageLogger = lines.logger(label: "s3kv.backend")
        RequestID.$current.withValue("req-42") { storageLogger.debug("backend request") }
        storageLogger.debug("outside any request")
        let objects = try lines.objects()
        #expect(objects[0]["request_id"] as? String == "req-42")
        #expect(objects[1]["request_id"] == nil)
    }

    @Test("The access line and the storage layer's lines carry the client's request id; values never appear")
    func accessLine() async throws {
        let lines = LogLines()
        let objects = InstrumentedObjectStore(
            MemoryObjectStore(), backend: "memory", factory: KVMetrics.registry().factory, logger: lines.logger(label: "s3kv.backend")
        )
        try await withAPI(objects: objects, logger: lines.logger()) { client in
            let response = try await client.execute(
                uri: "/kv/logged", method: .put, headers: [.requestID: "trace-7", .contentLength: "16"],
                body: ByteBuffer(string: "VALUE-MARKER-931")
            )
            #expect(response.headers[.requestID] == "trace-7")
        }
        let logged = try lines.objects()
        let access = try #require(logged.first { $0["message"] as? String == "request" })
        #expect(access["request_id"] as? String == "trace-7")
        #expect(access["method"] as? String == "PUT")
        #expect(access["route"] as? String == "/kv/{key}")
        #expect(access["path"] as? String == "/kv/logged")
        #expect(access["status"] as? Int == 200)
        #expect(access["request_bytes"] as? Int == 16)
        #expect((access["response_bytes"] as? Int ?? 0) > 0)
        #expect(access["duration_ms"] is Double || access["duration_ms"] is Int)
        let backend = logged.filter { $0["logger"] as? String == "s3kv.backend" }
        #expect(!backend.isEmpty)
        #expect(backend.allSatisfy { $0["request_id"] as? String == "trace-7" })
        #expect(!lines.all.joined().contains("VALUE-MARKER"))
    }
}
