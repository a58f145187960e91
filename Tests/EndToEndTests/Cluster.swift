import Foundation
import S3Protocol
import TestSupport
import Testing

/// Several s3kv processes on one bucket of the own S3 server (whose conditional writes are
/// atomic), behind nginx running the repository's `deploy/nginx.conf`.
final class Cluster {
    private(set) var instances: [ServerProcess]
    let nginx: NginxProcess
    let environment: [String: String]

    var url: String { self.nginx.baseURL }

    private init(instances: [ServerProcess], nginx: NginxProcess, environment: [String: String]) {
        self.instances = instances
        self.nginx = nginx
        self.environment = environment
    }

    /// Runs `body` with `count` instances on a fresh bucket, `settings` added to each one's environment.
    static func with(instances count: Int, settings: [String: String] = [:], _ body: (Cluster) async throws -> Void) async throws {
        try await OwnS3Server.withServer { s3 in
            let environment = [
                "S3_ENDPOINT": s3.endpoint, "S3_BUCKET": "cluster-\(UUID().uuidString.lowercased().prefix(8))",
                "S3_ACCESS_KEY": OwnS3Server.credentials.accessKeyID, "S3_SECRET_KEY": OwnS3Server.credentials.secretAccessKey,
                "S3_CREATE_BUCKET": "true",
            ].merging(settings) { $1 }
            let instances = try (0..<count).map { _ in try ServerProcess(environment: environment) }
            let nginx = try NginxProcess(upstreamPorts: instances.map(\.port))
            try await body(Cluster(instances: instances, nginx: nginx, environment: environment))
        }
    }

    /// Starts instance `index` again on the port it had, after it was stopped.
    func restart(_ index: Int) throws {
        self.instances[index] = try ServerProcess(environment: self.environment, fixedPort: self.instances[index].port)
    }
}

/// nginx with `deploy/nginx.conf`, its listen port and upstreams filled in, its files in a
/// directory of its own.
final class NginxProcess {
    let process = Process()
    let port: Int
    let directory: URL

    var baseURL: String { "http://127.0.0.1:\(self.port)" }
    var errorLog: String { (try? String(contentsOf: self.directory.appendingPathComponent("logs/error.log"), encoding: .utf8)) ?? "" }
    var accessLog: String { (try? String(contentsOf: self.directory.appendingPathComponent("logs/access.log"), encoding: .utf8)) ?? "" }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    init(upstreamPorts: [Int]) throws {
        let nginx = try #require(Tools.nginx, "nginx is not installed (apt-get install nginx-light); scripts/test installs it")
        self.port = try ServerProcess.freePort()
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("s3kv-nginx-\(UUID().uuidString)")
        for folder in ["logs", "temp"] {
            try FileManager.default.createDirectory(at: self.directory.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        let configuration = self.directory.appendingPathComponent("nginx.conf")
        try Self.render(port: self.port, upstreams: upstreamPorts).write(to: configuration, atomically: true, encoding: .utf8)
        self.process.executableURL = URL(fileURLWithPath: nginx)
        self.process.arguments = ["-p", self.directory.path + "/", "-c", configuration.path, "-g", "daemon off;"]
        self.process.standardOutput = FileHandle.nullDevice
        self.process.standardError = FileHandle.nullDevice
        try self.process.run()
        for _ in 0..<200 where self.process.isRunning && !ServerProcess.acceptsConnections(port: self.port) {
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard ServerProcess.acceptsConnections(port: self.port) else {
            throw ServerProcessError(message: "nginx did not start:\n\(self.errorLog)")
        }
    }

    /// `deploy/nginx.conf` with its listen port and upstream servers filled in, by the renderer
    /// `scripts/cluster` uses too.
    static func render(port: Int, upstreams: [Int]) throws -> String {
        let renderer = Process()
        renderer.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        renderer.arguments = ["python3", Self.repositoryRoot.appendingPathComponent("scripts/nginxconf.py").path, String(port)] + upstreams.map(String.init)
        let output = Pipe()
        let errors = Pipe()
        renderer.standardOutput = output
        renderer.standardError = errors
        try renderer.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        renderer.waitUntilExit()
        guard renderer.terminationStatus == 0 else {
            throw ServerProcessError(message: "scripts/nginxconf.py failed: " + String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        return text
    }

    deinit {
        if self.process.isRunning {
            self.process.terminate()
            self.process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: self.directory)
    }
}
