import Foundation
import Testing

/// A private CA and a server certificate for 127.0.0.1 and localhost, made with openssl, as an
/// operator would make them: what the HTTPS tests serve and trust.
struct TestCertificates {
    let directory: URL
    var caFile: String { self.directory.appendingPathComponent("ca.pem").path }
    var certificateFile: String { self.directory.appendingPathComponent("server.pem").path }
    var keyFile: String { self.directory.appendingPathComponent("server.key").path }

    /// Makes a CA named `name` and a server certificate it signed, in a new directory.
    init(name: String) throws {
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("s3kv-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        let extensions = self.directory.appendingPathComponent("server.ext")
        try Data(
            """
            subjectAltName=IP:127.0.0.1,DNS:localhost
            basicConstraints=CA:FALSE
            keyUsage=digitalSignature,keyEncipherment
            extendedKeyUsage=serverAuth

            """.utf8
        ).write(to: extensions)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try Self.openssl(["req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=\(name)"], in: self.directory)
        try Self.openssl(["req"] + ec + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"], in: self.directory)
        try Self.openssl(
            [
                "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2",
                "-extfile", "server.ext",
            ],
            in: self.directory
        )
    }

    /// Puts this pair where `other` serves from, as a rotation would.
    func install(over other: TestCertificates) throws {
        for name in ["server.pem", "server.key"] {
            let target = other.directory.appendingPathComponent(name)
            let staged = other.directory.appendingPathComponent(name + ".new")
            try? FileManager.default.removeItem(at: staged)
            try FileManager.default.copyItem(at: self.directory.appendingPathComponent(name), to: staged)
            try #require(rename(staged.path, target.path) == 0, "rename \(staged.path): errno \(errno)")
        }
    }

    private static func openssl(_ arguments: [String], in directory: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = directory
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "openssl \(arguments.joined(separator: " ")): \(String(decoding: output, as: UTF8.self))")
    }
}

/// `curl` with `arguments`: its exit status and standard output.
func curl(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["curl", "-s", "--max-time", "20"] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
