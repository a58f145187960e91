import Foundation
import S3
import Testing
import WireFormat
import S3Protocol

/// AWS's published SigV4 vectors (aws-c-auth), header signing, in `aws-sigv4/`.
@Suite struct SigV4VectorTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("aws-sigv4")

    /// Cases that do not apply to S3, and why.
    static let skipped: [String: String] = [
        "get-relative-normalized": "S3 never normalises paths; the unnormalised twin runs",
        "get-relative-relative-normalized": "S3 never normalises paths; the unnormalised twin runs",
        "get-slash-dot-slash-normalized": "S3 never normalises paths; the unnormalised twin runs",
        "get-slash-normalized": "S3 never normalises paths; the unnormalised twin runs",
        "get-slash-pointless-dot-normalized": "S3 never normalises paths; the unnormalised twin runs",
        "get-slashes-normalized": "S3 never normalises paths; the unnormalised twin runs",
        "post-sts-header-after": "adds the session token after signing (an IoT convention); S3 signs the token",
    ]

    static var cases: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.contains(".") && $0 != "LICENSE" }.sorted()
    }

    @Test("the vector set is present and every skip is accounted for")
    func inventory() {
        #expect(Self.cases.count == 38, "vectors missing from \(Self.directory.path)")
        #expect(Set(Self.skipped.keys).isSubset(of: Set(Self.cases)))
        #expect(Self.cases.count - Self.skipped.count == 31)
    }

    @Test("canonical request, string to sign and signature match", arguments: cases.filter { skipped[$0] == nil })
    func vector(_ name: String) throws {
        let folder = Self.directory.appendingPathComponent(name)
        func read(_ file: String) throws -> String { try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8) }
        let context = try JSONDecoder().decode(Context.self, from: Data(try read("context.json").utf8))
        let parsed = try ParsedRequest(try read("request.txt"))

        let signer = SigV4Signer(
            credentials: AWSCredentials(
                accessKeyID: context.credentials.access_key_id,
                secretAccessKey: context.credentials.secret_access_key,
                sessionToken: context.credentials.token
            ),
            region: context.region,
            service: context.service
        )
        var request = SigV4Signer.Request(
            method: parsed.method,
            encodedPath: SigV4Signer.encodePath(parsed.path),
            query: parsed.query,
            headers: parsed.headers,
            payloadHash: SigV4Signer.payloadHash(parsed.body.utf8)
        )
        let date = try #require(ISO8601DateFormatter().date(from: context.timestamp))
        signer.sign(&request, date: date, includeContentHashHeader: context.sign_body)

        var unsigned = request
        unsigned.headers.removeAll { $0.name == "Authorization" }
        let canonical = SigV4Signer.canonicalRequest(unsigned).canonical
        #expect(canonical == (try read("header-canonical-request.txt")))
        let timestamp = SigV4Signer.timestamp(date)
        let stringToSign = signer.stringToSign(canonicalRequest: canonical, timestamp: timestamp)
        #expect(stringToSign == (try read("header-string-to-sign.txt")))
        let expectedSignature = try read("header-signature.txt").trimmingCharacters(in: .whitespacesAndNewlines)
        let authorization = try #require(request.headers.first { $0.name == "Authorization" }?.value)
        #expect(authorization.hasSuffix("Signature=\(expectedSignature)"))
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders="))
    }

    @Test("S3 requests carry x-amz-content-sha256, and credentials never print their secret")
    func s3Defaults() throws {
        let credentials = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "very-secret", sessionToken: "tok")
        #expect(!"\(credentials)".contains("very-secret"))
        #expect(!"\(credentials)".contains("tok"))
        var request = SigV4Signer.Request(method: "GET", encodedPath: "/b/k", headers: [("host", "h")], payloadHash: SigV4Signer.emptyPayloadHash)
        SigV4Signer(credentials: credentials, region: "eu-west-1").sign(&request, date: Date(timeIntervalSince1970: 0))
        #expect(request.headers.contains { $0.name == "x-amz-content-sha256" && $0.value == SigV4Signer.emptyPayloadHash })
        let authorization = try #require(request.headers.first { $0.name == "Authorization" }?.value)
        #expect(authorization.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token"))
        #expect(authorization.contains("/19700101/eu-west-1/s3/aws4_request"))
    }

    @Test("paths are encoded once, keeping '/'", arguments: [
        ("a/b c", "a/b%20c"), ("ключ", "%D0%BA%D0%BB%D1%8E%D1%87"), ("100%", "100%25"), ("a+b=c&d", "a%2Bb%3Dc%26d"), ("-._~", "-._~"),
    ])
    func pathEncoding(_ raw: String, _ encoded: String) {
        #expect(SigV4Signer.encodePath(raw) == encoded)
    }
}

private struct Context: Decodable {
    struct Credentials: Decodable {
        var access_key_id: String
        var secret_access_key: String
        var token: String?
    }
    var credentials: Credentials
    var region: String
    var service: String
    var sign_body: Bool
    var timestamp: String
}

/// A request.txt: request line, headers (with folded continuation lines), blank line, body.
private struct ParsedRequest {
    var method: String
    var path: String
    var query: [(name: String, value: String)]
    var headers: [(name: String, value: String)]
    var body: String

    init(_ text: String) throws {
        var lines = text.components(separatedBy: "\n")
        let requestLine = lines.removeFirst()
        let method = requestLine.prefix { $0 != " " }
        let target = requestLine.dropFirst(method.count + 1).dropLast(" HTTP/1.1".count)
        self.method = String(method)
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.path = String(parts[0]).removingPercentEncoding ?? String(parts[0])
        self.query = parts.count > 1
            ? parts[1].split(separator: "&").map { pair in
                let nameValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(nameValue[0]).removingPercentEncoding ?? String(nameValue[0])
                let value = nameValue.count > 1 ? (String(nameValue[1]).removingPercentEncoding ?? String(nameValue[1])) : ""
                return (name, value)
            }
            : []
        var headers: [(name: String, value: String)] = []
        while let line = lines.first, !line.isEmpty {
            lines.removeFirst()
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += " " + line.trimmingCharacters(in: .whitespaces)
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        self.headers = headers
        self.body = lines.dropFirst().joined(separator: "\n")
    }
}
