import Foundation
import TestSupport
import Testing

/// The built `s3kv` binary, run as a child process on a free loopback port.
///
/// The server is started with `PORT=0` and the port it actually bound is read from its start-up
/// log line, so tests never race for ports.
final class ServerProcess {
    let process = Process()
    let port: Int
    let logFile: URL

    /// The binary under test: `S3KV_BINARY`, or `s3kv` next to the test bundle.
    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["S3KV_BINARY"] { return URL(fileURLWithPath: path) }
        let testBundle = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        return testBundle.deletingLastPathComponent().appendingPathComponent("s3kv")
    }

    /// Starts the server and waits (at most 30 s) until it listens.
    ///
    /// - Parameter fixedPort: listen on this port and wait for it to accept connections, for
    ///   settings under which the start-up line is not logged; by default any free port.
    init(environment: [String: String], fixedPort: Int? = nil) throws {
        self.logFile = FileManager.default.temporaryDirectory.appendingPathComponent("s3kv-e2e-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: self.logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: self.logFile)
        self.process.executableURL = Self.binary
        self.process.arguments = ["serve"]
        var processEnvironment = ProcessInfo.processInfo.environment
        processEnvironment["HOST"] = "127.0.0.1"
        processEnvironment["PORT"] = String(fixedPort ?? 0)
        processEnvironment.merge(environment) { _, new in new }
        self.process.environment = processEnvironment
        self.process.standardOutput = log
        self.process.standardError = log
        try self.process.run()

        var port: Int?
        for _ in 0..<600 where port == nil && self.process.isRunning {
            if let fixedPort {
                port = Self.acceptsConnections(port: fixedPort) ? fixedPort : nil
            } else {
                port = Self.listeningPort(in: (try? String(contentsOf: self.logFile, encoding: .utf8)) ?? "")
            }
            if port == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        guard let port else {
            self.process.terminate()
            let log = (try? String(contentsOf: self.logFile, encoding: .utf8)) ?? ""
            throw ServerProcessError(message: "s3kv did not start listening:\n\(log)")
        }
        self.port = port
    }

    var baseURL: String { "http://127.0.0.1:\(self.port)" }
    var log: String { (try? String(contentsOf: self.logFile, encoding: .utf8)) ?? "" }

    /// Sends `signal` and waits for the process to exit; returns its exit status.
    @discardableResult
    func stop(signal: Int32) -> Int32 {
        kill(self.process.processIdentifier, signal)
        self.process.waitUntilExit()
        return self.process.terminationStatus
    }

    deinit {
        if self.process.isRunning { self.stop(signal: SIGKILL) }
        try? FileManager.default.removeItem(at: self.logFile)
    }

    /// Whether something accepts TCP connections on the loopback `port`.
    static func acceptsConnections(port: Int) -> Bool {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = Self.loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// A loopback port nothing listens on right now.
    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        guard bound, withUnsafeMutablePointer(to: &address, {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) == 0 }
        }) else { throw ServerProcessError(message: "cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private static func listeningPort(in log: String) -> Int? {
        guard let range = log.range(of: "s3kv listening on 127.0.0.1:") else { return nil }
        return Int(log[range.upperBound...].prefix { $0.isNumber })
    }
}

struct ServerProcessError: Error, CustomStringConvertible {
    var message: String
    var description: String { self.message }
}

/// Runs the binary to completion (bounded to 30 s) and returns its exit status and output.
func runToCompletion(arguments: [String], environment: [String: String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = ServerProcess.binary
    process.arguments = arguments
    process.environment = environment
    let stdout = Pipe()
    let stderr = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    let deadline = Date().addingTimeInterval(30)
    while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    let out = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let err = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return (process.terminationStatus, out, err)
}
