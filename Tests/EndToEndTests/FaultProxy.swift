import Foundation
import NIOHTTP1

/// `scripts/fault-proxy.py` run in front of an upstream server on a free loopback port: it drops
/// the answers of a share of connections after the upstream has answered them, or resets them
/// before forwarding, as a flaky network does.
final class FaultProxy {
    let process = Process()
    let port: Int
    /// Where the proxy takes changes while it runs (`/set?mode=blackhole`, `/stats`).
    let controlPort: Int
    private let output = Pipe()

    /// The script, found from this file's place in the repository.
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/fault-proxy.py")

    /// Starts the proxy and waits (at most 10 s) until it listens.
    init(upstream: String, loseAnswers: Double = 0, resetBefore: Double = 0, seed: Int = 1) throws {
        guard let url = URL(string: upstream), let host = url.host, let upstreamPort = url.port else {
            throw ServerProcessError(message: "cannot proxy '\(upstream)': expected http://HOST:PORT")
        }
        self.process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        self.process.arguments = [
            "python3", Self.script.path, "--upstream", "\(host):\(upstreamPort)", "--lose-answers", "\(loseAnswers)",
            "--reset-before", "\(resetBefore)", "--seed", "\(seed)",
        ]
        self.process.standardOutput = self.output
        self.process.standardError = FileHandle.nullDevice
        try self.process.run()
        var line = Data()
        let deadline = Date().addingTimeInterval(10)
        while !line.contains(UInt8(ascii: "\n")), Date() < deadline, self.process.isRunning {
            line += self.output.fileHandleForReading.availableData
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: "listening on 127.0.0.1:"), let port = Int(text[range.upperBound...].prefix { $0.isNumber }),
            let controlRange = text.range(of: "control 127.0.0.1:"),
            let controlPort = Int(text[controlRange.upperBound...].prefix { $0.isNumber })
        else {
            self.process.terminate()
            throw ServerProcessError(message: "the fault proxy did not start: \(text)")
        }
        self.port = port
        self.controlPort = controlPort
    }

    /// Changes the proxy's settings while it runs, e.g. `["mode": "blackhole"]` or `["delay": "2000"]`.
    func set(_ settings: [String: String]) async throws {
        let query = settings.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        let response = try await HTTP.request("http://127.0.0.1:\(self.controlPort)/set?\(query)", method: .GET)
        guard response.status == 200 else { throw ServerProcessError(message: "the fault proxy refused \(query): \(response.text)") }
    }

    var endpoint: String { "http://127.0.0.1:\(self.port)" }

    deinit {
        guard self.process.isRunning else { return }
        self.process.terminate()
        // Bounded: a proxy that does not stop within 2 s is killed.
        let deadline = Date().addingTimeInterval(2)
        while self.process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
    }
}
