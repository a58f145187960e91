import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import S3Protocol
import ServerSupport
import TestSupport
import Testing
import WireFormat

/// A token file the tests write and rewrite, as an operator would.
struct TokenFile {
    let path: String

    init() {
        self.path = FileManager.default.temporaryDirectory.appendingPathComponent("s3kv-tokens-\(UUID().uuidString).json").path
    }

    /// Writes entries of (name, scope, token), replacing the file in one rename.
    func write(_ entries: [(name: String, scope: String, token: String)]) throws {
        let items = entries.map { entry in
            let digest = Hex.encode(SHA256.hash(data: Data(entry.token.utf8)))
            return #"{"name":"\#(entry.name)","scope":"\#(entry.scope)","sha256":"\#(digest)"}"#
        }
        try self.replace(with: #"{"tokens":[\#(items.joined(separator: ","))]}"#)
    }

    func replace(with text: String) throws {
        let staged = self.path + ".new"
        try Data(text.utf8).write(to: URL(fileURLWithPath: staged))
        _ = rename(staged, self.path)
    }
}

@Suite("Access control and TLS, end to end", .serialized)
struct AccessEndToEndTests {
    static let first = "first-token-\(UUID().uuidString)"
    static let second = "second-token-\(UUID().uuidString)"

    /// A GET on an open connection, and the status line of its answer.
    static func get(_ connection: RawConnection, token: String) -> String? {
        connection.send("GET /kv/some-key HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n\r\n")
        return connection.readResponse(timeout: .seconds(10)).flatMap { $0.components(separatedBy: "\r\n").first }
    }

    @Test("SIGHUP adds and revokes tokens while a client keeps its connection open; a broken file leaves the table in force")
    func reloadOnSighup() async throws {
        let file = TokenFile()
        try file.write([("first", "read", Self.first)])
        let server = try ServerProcess(environment: ["KV_STORAGE": "memory", "KV_AUTH_TOKENS_FILE": file.path])
        let (port, pid, logFile) = (server.port, server.process.processIdentifier, server.logFile)
        @Sendable func log() -> String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }
        // The exchange blocks on its socket, so it runs on a thread of its own: the suites that
        // run servers in this process need every thread of the shared pool.
        let statuses: [String?] = try await RawConnection.offThePool {
            let connection = try RawConnection(port: port)
            var statuses = [Self.get(connection, token: Self.first), Self.get(connection, token: Self.second)]
            try file.write([("second", "read", Self.second)])
            kill(pid, SIGHUP)
            // The reload is asynchronous to the signal: poll, on the same connection, for at most 10 s.
            var revoked: String?
            for _ in 0..<100 {
                revoked = Self.get(connection, token: Self.first)
                if revoked?.contains("401") == true { break }
                Thread.sleep(forTimeInterval: 0.1)
            }
            statuses += [revoked, Self.get(connection, token: Self.second)]
            try file.replace(with: "{ not json")
            kill(pid, SIGHUP)
            for _ in 0..<100 where !log().contains("could not reload token file") { Thread.sleep(forTimeInterval: 0.1) }
            statuses += [Self.get(connection, token: Self.second), Self.get(connection, token: Self.first)]
            return statuses
        }
        #expect(
            statuses == [
                "HTTP/1.1 404 Not Found", "HTTP/1.1 401 Unauthorized", "HTTP/1.1 401 Unauthorized", "HTTP/1.1 404 Not Found",
                "HTTP/1.1 404 Not Found", "HTTP/1.1 401 Unauthorized",
            ]
        )
        #expect(server.log.contains("reloaded token file"))
        #expect(server.log.contains("could not reload token file"))
        #expect(!server.log.contains(Self.first) && !server.log.contains(Self.second))
        #expect(server.stop(signal: SIGTERM) == 0)
    }

    @Test("Without a token file the server starts and says access control is off; KV_AUTH_REQUIRED makes that an error; a bad file stops start-up")
    func startUp() async throws {
        let open = try ServerProcess(environment: ["KV_STORAGE": "memory"])
        #expect(open.log.contains("access control is off"))
        open.stop(signal: SIGTERM)
        let required = try await RawConnection.offThePool {
            try runToCompletion(arguments: ["serve"], environment: ["KV_STORAGE": "memory", "KV_AUTH_REQUIRED": "true", "PORT": "0"])
        }
        #expect(required.status == 1)
        #expect(required.stderr.contains("KV_AUTH_TOKENS_FILE: required when KV_AUTH_REQUIRED is true"))
        let file = TokenFile()
        try file.replace(with: #"{"tokens":[{"name":"x","scope":"superuser","sha256":"00"}]}"#)
        let path = file.path
        let broken = try await RawConnection.offThePool {
            try runToCompletion(arguments: ["serve"], environment: ["KV_STORAGE": "memory", "KV_AUTH_TOKENS_FILE": path, "PORT": "0"])
        }
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("tokens[0] (x): scope must be one of read, write, admin"), "\(broken.stderr)")
    }

    @Test("HTTPS: curl --cacert and the HTTP client trust the test CA; plain HTTP and untrusting clients fail; SIGHUP serves a rotated certificate")
    func https() async throws {
        let certificates = try await RawConnection.offThePool { try TestCertificates(name: "s3kv test CA one") }
        let rotated = try await RawConnection.offThePool { try TestCertificates(name: "s3kv test CA two") }
        let file = TokenFile()
        try file.write([("writer", "write", Self.first)])
        let server = try ServerProcess(environment: [
            "KV_STORAGE": "memory", "KV_AUTH_TOKENS_FILE": file.path,
            "TLS_CERT_FILE": certificates.certificateFile, "TLS_KEY_FILE": certificates.keyFile,
        ])
        let url = "https://127.0.0.1:\(server.port)"
        let auth = ["-H", "Authorization: Bearer \(Self.first)"]
        let put = try await RawConnection.offThePool {
            try curl(["--cacert", certificates.caFile, "-X", "PUT", "--data-binary", "over tls", "-w", " %{http_code}"] + auth + ["\(url)/kv/secure"])
        }
        #expect(put.status == 0 && put.output.hasSuffix(" 200"), "\(put)")
        let get = try await RawConnection.offThePool { try curl(["--cacert", certificates.caFile] + auth + ["\(url)/kv/secure"]) }
        #expect(get.output == "over tls")
        // No trust in the CA, or plain HTTP on the HTTPS port: no answer.
        let untrusted = try await RawConnection.offThePool { try curl(auth + ["\(url)/kv/secure"]) }
        #expect(untrusted.status == 60, "curl exit \(untrusted.status): certificate not trusted")
        let port = server.port
        let plain = try await RawConnection.offThePool { try curl(["-w", "%{http_code}"] + auth + ["http://127.0.0.1:\(port)/kv/secure"]) }
        #expect(plain.output != "200" && !plain.output.contains("over tls"))

        // The HTTP client of the tests, trusting the CA as S3_CA_FILE makes s3kv's own client do.
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.additionalTrustRoots = [.file(certificates.caFile)]
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        do {
            var request = HTTPClientRequest(url: "\(url)/kv/secure")
            request.headers.add(name: "Authorization", value: "Bearer \(Self.first)")
            let response = try await client.execute(request, timeout: .seconds(20))
            #expect(response.status == .ok)
            #expect(String(buffer: try await response.body.collect(upTo: 1024)) == "over tls")
            try await client.shutdown()
        } catch {
            try await client.shutdown()
            throw error
        }

        // Rotation: the new pair is put in place, SIGHUP, and new connections get it.
        try rotated.install(over: certificates)
        kill(server.process.processIdentifier, SIGHUP)
        var served: (status: Int32, output: String) = (-1, "")
        for _ in 0..<100 {
            served = try await RawConnection.offThePool { try curl(["--cacert", rotated.caFile] + auth + ["\(url)/kv/secure"]) }
            if served.status == 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(served.output == "over tls", "curl exit \(served.status)")
        let old = try await RawConnection.offThePool { try curl(["--cacert", certificates.caFile] + auth + ["\(url)/kv/secure"]) }
        #expect(old.status == 60)
        #expect(server.log.contains("reloaded TLS certificate"))
        #expect(server.stop(signal: SIGTERM) == 0)
    }

    @Test("The S3 server serves HTTPS, and s3kv reaches it with S3_CA_FILE, or not at all without it")
    func s3OverTLS() async throws {
        let certificates = try await RawConnection.offThePool { try TestCertificates(name: "s3kv test CA for S3") }
        let tls = try TLSCertificates(certificatePath: certificates.certificateFile, keyPath: certificates.keyFile)
        try await OwnS3Server.withServer(tls: tls) { s3 in
            #expect(s3.endpoint.hasPrefix("https://"))
            let environment = [
                "S3_ENDPOINT": s3.endpoint, "S3_BUCKET": "tls-\(UUID().uuidString.lowercased().prefix(8))",
                "S3_ACCESS_KEY": OwnS3Server.credentials.accessKeyID, "S3_SECRET_KEY": OwnS3Server.credentials.secretAccessKey,
                "S3_CREATE_BUCKET": "true",
            ]
            let refused = try await RawConnection.offThePool { try runToCompletion(arguments: ["serve"], environment: environment.merging(["PORT": "0"]) { $1 }) }
            #expect(refused.status != 0, "without the CA the bucket cannot be reached, so start-up fails")
            let server = try ServerProcess(environment: environment.merging(["S3_CA_FILE": certificates.caFile]) { $1 })
            let base = server.baseURL
            let put = try await RawConnection.offThePool { try curl(["-X", "PUT", "--data-binary", "through https", "-w", "%{http_code}", "\(base)/kv/k"]) }
            #expect(put.output.hasSuffix("200"), "\(put.output)")
            let get = try await RawConnection.offThePool { try curl(["-H", "Cache-Control: no-cache", "\(base)/kv/k"]) }
            #expect(get.output == "through https")
            #expect(server.stop(signal: SIGTERM) == 0)
            let badCA = try await RawConnection.offThePool {
                try runToCompletion(arguments: ["serve"], environment: environment.merging(["PORT": "0", "S3_CA_FILE": "/nonexistent.pem"]) { $1 })
            }
            #expect(badCA.status == 1 && badCA.stderr.contains("S3_CA_FILE"))
        }
    }

    @Test("Start-up refuses access and TLS settings it cannot use, naming the variable", arguments: [
        (["KV_AUTH_OPEN_ENDPOINTS": "/kv"], "KV_AUTH_OPEN_ENDPOINTS: '/kv' is not one of"),
        (["KV_AUTH_FAILURE_BURST": "many"], "KV_AUTH_FAILURE_BURST"),
        (["TLS_CERT_FILE": "/nonexistent/cert.pem"], "TLS_KEY_FILE: required with TLS_CERT_FILE"),
        (["TLS_CERT_FILE": "/nonexistent/cert.pem", "TLS_KEY_FILE": "/nonexistent/key.pem"], "TLS_CERT_FILE /nonexistent/cert.pem is not a readable PEM"),
    ])
    func refusedSettings(settings: [String: String], message: String) async throws {
        let result = try await RawConnection.offThePool {
            try runToCompletion(arguments: ["serve"], environment: settings.merging(["KV_STORAGE": "memory", "PORT": "0"]) { $1 })
        }
        #expect(result.status == 1)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test("s3kv s3-server serves HTTPS from TLS_CERT_FILE and TLS_KEY_FILE")
    func s3ServerCommandTLS() async throws {
        let certificates = try await RawConnection.offThePool { try TestCertificates(name: "s3kv test CA for s3-server") }
        let port = try ServerProcess.freePort()
        let process = Process()
        process.executableURL = ServerProcess.binary
        process.arguments = ["s3-server"]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "S3_SERVER_HOST": "127.0.0.1", "S3_SERVER_PORT": String(port), "S3_SERVER_STORAGE": "memory",
            "S3_SERVER_ACCESS_KEY": "k", "S3_SERVER_SECRET_KEY": "secret", "LOG_LEVEL": "warning",
            "TLS_CERT_FILE": certificates.certificateFile, "TLS_KEY_FILE": certificates.keyFile,
        ]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        var health: (status: Int32, output: String) = (-1, "")
        for _ in 0..<100 {
            health = try await RawConnection.offThePool { try curl(["--cacert", certificates.caFile, "https://127.0.0.1:\(port)/_s3kv/health"]) }
            if health.status == 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(health.status == 0, "curl exit \(health.status)")
        let plain = try await RawConnection.offThePool { try curl(["-w", "%{http_code}", "http://127.0.0.1:\(port)/_s3kv/health"]) }
        #expect(plain.output != "200")
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<300 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!process.isRunning && process.terminationStatus == 0)
    }
}
