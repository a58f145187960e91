import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KVServer
import KVStore
import Logging
import NIOCore
import ObjectStore
import PropertyBased
import ServerSupport
import Testing
import TestSupport

/// The tokens every access-control test uses: one per scope, and one confined to `t/`.
enum Tokens {
    static let admin = "admin-secret-0123456789abcdef"
    static let write = "write-secret-0123456789abcdef"
    static let read = "read-secret-0123456789abcdef"
    static let tenant = "tenant-secret-0123456789abcdef"
    static let unknown = "not-a-configured-token-at-all"

    static func table() -> AccessTokens {
        AccessTokens([
            AccessToken(name: "ops", scope: .admin, secret: admin),
            AccessToken(name: "writer", scope: .write, secret: write),
            AccessToken(name: "reader", scope: .read, secret: read),
            AccessToken(name: "tenant-t", scope: .write, prefix: "t/", secret: tenant),
        ])
    }

    static func bearer(_ token: String?) -> HTTPFields {
        token.map { [.authorization: "Bearer \($0)"] } ?? [:]
    }
}

@Suite("Access control: every route against every kind of caller")
struct AccessControlMatrixTests {
    /// Who calls: no token, an unknown one, each scope, and the confined token.
    enum Caller: String, CaseIterable {
        case anonymous, unknown, read, write, admin, tenant

        var token: String? {
            switch self {
            case .anonymous: nil
            case .unknown: Tokens.unknown
            case .read: Tokens.read
            case .write: Tokens.write
            case .admin: Tokens.admin
            case .tenant: Tokens.tenant
            }
        }

        var scope: AccessScope? {
            switch self {
            case .anonymous, .unknown: nil
            case .read: .read
            case .write, .tenant: .write
            case .admin: .admin
            }
        }
    }

    /// A request, the scope it needs (nil: open), and whether it names keys outside `t/`.
    struct Probe: CustomTestStringConvertible, Sendable {
        var method: HTTPRequest.Method
        var uri: String
        var body: String?
        var needs: AccessScope?
        var outsideTenant: Bool
        var testDescription: String { "\(self.method) \(self.uri)" }
    }

    static let probes: [Probe] = [
        Probe(method: .get, uri: "/kv/t/k", needs: .read, outsideTenant: false),
        Probe(method: .head, uri: "/kv/t/k", needs: .read, outsideTenant: false),
        Probe(method: .put, uri: "/kv/t/k", body: "v", needs: .write, outsideTenant: false),
        Probe(method: .delete, uri: "/kv/t/k", needs: .write, outsideTenant: false),
        Probe(method: .get, uri: "/kv/u/k", needs: .read, outsideTenant: true),
        Probe(method: .get, uri: "/kv/u/k?versions", needs: .read, outsideTenant: true),
        Probe(method: .head, uri: "/kv/u/k", needs: .read, outsideTenant: true),
        Probe(method: .put, uri: "/kv/u/k", body: "v", needs: .write, outsideTenant: true),
        Probe(method: .delete, uri: "/kv/u/k", needs: .write, outsideTenant: true),
        Probe(method: .get, uri: "/kv", needs: .read, outsideTenant: false),
        Probe(method: .post, uri: "/kv", body: #"{"items":[{"key":"t/a","value":"1"}]}"#, needs: .write, outsideTenant: false),
        Probe(method: .post, uri: "/kv", body: #"{"items":[{"key":"t/a","value":"1"},{"key":"u/a","value":"1"}]}"#, needs: .write, outsideTenant: true),
        Probe(method: .post, uri: "/kv?delete", body: #"{"keys":["t/a"]}"#, needs: .write, outsideTenant: false),
        Probe(method: .post, uri: "/kv?delete", body: #"{"keys":["u/a"]}"#, needs: .write, outsideTenant: true),
        Probe(method: .get, uri: "/metrics", needs: .admin, outsideTenant: false),
        Probe(method: .get, uri: "/nowhere", needs: .read, outsideTenant: false),
        Probe(method: .get, uri: "/health", needs: nil, outsideTenant: false),
        Probe(method: .head, uri: "/health", needs: nil, outsideTenant: false),
        Probe(method: .get, uri: "/ready", needs: nil, outsideTenant: false),
        Probe(method: .get, uri: "/openapi.json", needs: nil, outsideTenant: false),
        Probe(method: .get, uri: "/docs", needs: nil, outsideTenant: false),
    ]

    @Test("401 without a usable token, 403 for a small scope or a key outside the prefix, through otherwise", arguments: probes)
    func matrix(probe: Probe) async throws {
        try await withAPI(tokens: Tokens.table()) { client in
            for caller in Caller.allCases {
                var headers = Tokens.bearer(caller.token)
                if probe.body != nil { headers[.contentType] = "application/json" }
                let response = try await client.execute(
                    uri: probe.uri, method: probe.method, headers: headers, body: probe.body.map { ByteBuffer(string: $0) }
                )
                let label = "\(probe.testDescription) as \(caller.rawValue): \(response.status)"
                guard let needs = probe.needs else {
                    #expect(response.status != .unauthorized && response.status != .forbidden, "\(label)")
                    continue
                }
                guard let scope = caller.scope else {
                    #expect(response.status == .unauthorized, "\(label)")
                    #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true, "\(label)")
                    if probe.method != .head { try response.expectError(.unauthorized, "unauthorized") }
                    continue
                }
                if scope < needs || (caller == .tenant && probe.outsideTenant) {
                    #expect(response.status == .forbidden, "\(label)")
                    if probe.method != .head { try response.expectError(.forbidden, "forbidden") }
                } else {
                    #expect(response.status != .unauthorized && response.status != .forbidden, "\(label)")
                    #expect(response.status.code < 500, "\(label)")
                }
            }
        }
    }

    @Test("The operational endpoints can be closed, and /health cannot")
    func closedEndpoints() async throws {
        let server = ServerConfiguration(access: AccessConfiguration(openEndpoints: []))
        try await withAPI(server: server, tokens: Tokens.table()) { client in
            for uri in ["/ready", "/openapi.json", "/docs", "/metrics"] {
                do {
                    let status = try await client.execute(uri: uri, method: .get).status
                    #expect(status == .unauthorized, "\(uri)")
                }
                let expected: HTTPResponse.Status = uri == "/metrics" ? .forbidden : .ok
                do {
                    let status = try await client.execute(uri: uri, method: .get, headers: Tokens.bearer(Tokens.read)).status
                    #expect(status == expected, "\(uri)")
                }
            }
            do {
                let status = try await client.execute(uri: "/health", method: .get).status
                #expect(status == .ok)
            }
        }
        let open = ServerConfiguration(access: AccessConfiguration(openEndpoints: ["/metrics"]))
        try await withAPI(server: open, tokens: Tokens.table()) { client in
            do {
                let status = try await client.execute(uri: "/metrics", method: .get).status
                #expect(status == .ok)
            }
            do {
                let status = try await client.execute(uri: "/ready", method: .get).status
                #expect(status == .unauthorized)
            }
        }
    }

    @Test("Authorization headers that are not 'Bearer <token>' are 401 invalid_request; the scheme's case does not matter")
    func malformedHeaders() async throws {
        try await withAPI(tokens: Tokens.table()) { client in
            for header in ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer ", "Bearer\(Tokens.read)", Tokens.read, "Token \(Tokens.read)"] {
                let response = try await client.execute(uri: "/kv/a", method: .get, headers: [.authorization: header])
                try response.expectError(.unauthorized, "unauthorized")
                #expect(response.headers[.wwwAuthenticate]?.contains("invalid_request") == true, "\(header)")
            }
            for header in ["bearer \(Tokens.read)", "BEARER \(Tokens.read)", "Bearer   \(Tokens.read)"] {
                do {
                    let status = try await client.execute(uri: "/kv/a", method: .get, headers: [.authorization: header]).status
                    #expect(status == .notFound, "\(header)")
                }
            }
            let unknown = try await client.execute(uri: "/kv/a", method: .get, headers: Tokens.bearer(Tokens.unknown))
            #expect(unknown.headers[.wwwAuthenticate]?.contains("invalid_token") == true)
        }
    }
}

@Suite("Access control: prefixes, listings, batches")
struct AccessPrefixTests {
    @Test("A confined token's listing shows only its keys, whatever prefix it asks for")
    func listings() async throws {
        try await withAPI(tokens: Tokens.table()) { client in
            let admin = Tokens.bearer(Tokens.admin)
            for key in ["s/1", "t/1", "t/2", "t/x/3", "u/1", "tt/1"] {
                _ = try await client.execute(uri: "/kv/\(key)", method: .put, headers: admin, body: ByteBuffer(string: "v"))
            }
            struct Page: Decodable {
                struct Item: Decodable { var key: String }
                var items: [Item]
                var prefixes: [String]
                var next_cursor: String?
            }
            let tenant = Tokens.bearer(Tokens.tenant)
            func keys(_ query: String) async throws -> [String] {
                let response = try await client.execute(uri: "/kv\(query)", method: .get, headers: tenant)
                #expect(response.status == .ok, "\(query)")
                let page = try response.json(Page.self)
                return page.items.map(\.key) + page.prefixes
            }
            #expect(try await keys("") == ["t/1", "t/2", "t/x/3"])
            #expect(try await keys("?prefix=t") == ["t/1", "t/2", "t/x/3"])
            #expect(try await keys("?prefix=t/x") == ["t/x/3"])
            #expect(try await keys("?prefix=u") == [])
            #expect(try await keys("?prefix=tt") == [])
            #expect(try await keys("?delimiter=/") == ["t/1", "t/2", "t/x/"])
            // Pages: a cursor of the confined listing goes on where it stopped, still confined.
            let first = try await client.execute(uri: "/kv?limit=2", method: .get, headers: tenant).json(Page.self)
            #expect(first.items.map(\.key) == ["t/1", "t/2"])
            let cursor = try #require(first.next_cursor)
            let second = try await client.execute(uri: "/kv?limit=2&cursor=\(cursor)", method: .get, headers: tenant).json(Page.self)
            #expect(second.items.map(\.key) == ["t/x/3"])
            #expect(second.next_cursor == nil)
        }
    }

    @Test("A batch with any key outside the prefix is refused whole, naming each such item, and nothing is written")
    func batches() async throws {
        try await withAPI(tokens: Tokens.table()) { client in
            let headers: HTTPFields = [.authorization: "Bearer \(Tokens.tenant)", .contentType: "application/json"]
            let body = #"{"items":[{"key":"t/a","value":"1"},{"key":"u/b","value":"2"},{"key":"t/c","value":"3"},{"key":"v","value":"4"}]}"#
            let response = try await client.execute(uri: "/kv", method: .post, headers: headers, body: ByteBuffer(string: body))
            try response.expectError(.forbidden, "forbidden")
            struct Refusal: Decodable {
                struct Detail: Decodable {
                    struct Item: Decodable { var index: Int; var key: String?; var code: String }
                    var items: [Item]
                }
                var error: Detail
            }
            let items = try response.json(Refusal.self).error.items
            #expect(items.map(\.index) == [1, 3])
            #expect(items.map(\.key) == ["u/b", "v"])
            do {
                let status = try await client.execute(uri: "/kv/t/a", method: .get, headers: Tokens.bearer(Tokens.admin)).status
                #expect(status == .notFound)
            }
        }
    }

    @Test("A prefix is matched by bytes: the NFD spelling of a key is outside an NFC prefix")
    func bytePrefixes() async throws {
        let table = AccessTokens([AccessToken(name: "cafe", scope: .write, prefix: "caf\u{E9}/", secret: "nfc-token-0123456789")])
        try await withAPI(tokens: table) { client in
            let headers = Tokens.bearer("nfc-token-0123456789")
            let nfc = try await client.execute(uri: "/kv/caf%C3%A9/x", method: .put, headers: headers, body: ByteBuffer(string: "v"))
            #expect(nfc.status == .ok)
            let nfd = try await client.execute(uri: "/kv/cafe%CC%81/x", method: .put, headers: headers, body: ByteBuffer(string: "v"))
            try nfd.expectError(.forbidden, "forbidden")
        }
    }

    @Test("For hostile names, a token permits a key exactly when the key's bytes start with the prefix's")
    func permitsIsBytePrefix() async {
        await propertyCheck(count: 200, input: HostileText.name(pieces: 1...3), HostileText.name(pieces: 1...6)) { prefix, key in
            let token = AccessToken(name: "p", scope: .read, prefix: prefix, secret: "s")
            #expect(token.permits(key: key) == key.utf8.starts(with: prefix.utf8))
            #expect(token.permits(key: prefix + key))
        }
    }
}

@Suite("Access control: the token file, the log, the metrics, slowing")
struct AccessOperationsTests {
    static func file(_ entries: String) -> Data { Data(#"{"tokens":[\#(entries)]}"#.utf8) }
    static let digest = String(repeating: "ab", count: 32)

    @Test("The token file is read with its digests, and refused whole, naming the entry, when an entry is wrong")
    func tokenFile() throws {
        let tokens = try AccessTokenFile.parse(
            Self.file(#"{"name":"a","scope":"read","sha256":"\#(Self.digest)"},{"name":"b.c-d_e","scope":"admin","prefix":"p/","sha256":"\#(Self.digest.uppercased().replacingOccurrences(of: "AB", with: "CD"))"}"#),
            path: "tokens.json"
        )
        #expect(tokens.map(\.name) == ["a", "b.c-d_e"])
        #expect(tokens[1].prefix == "p/" && tokens[1].scope == .admin && tokens[1].digest == [UInt8](repeating: 0xCD, count: 32))
        let bad: [(String, String)] = [
            (#"{"name":"a","scope":"read","sha256":"\#(Self.digest)"},{"name":"a","scope":"read","sha256":"\#(String(repeating: "cd", count: 32))"}"#, "name is used"),
            (#"{"name":"a","scope":"read","sha256":"\#(Self.digest)"},{"name":"b","scope":"read","sha256":"\#(Self.digest)"}"#, "same token twice"),
            (#"{"name":"a","scope":"root","sha256":"\#(Self.digest)"}"#, "scope must be"),
            (#"{"name":"a","scope":"read","sha256":"abc"}"#, "64 hex digits"),
            (#"{"name":"a","scope":"read","sha256":"\#(String(repeating: "zz", count: 32))"}"#, "64 hex digits"),
            (#"{"name":"a","scope":"read","prefix":"","sha256":"\#(Self.digest)"}"#, "prefix must not be empty"),
            (#"{"name":"a b","scope":"read","sha256":"\#(Self.digest)"}"#, "name must be"),
            (#"{"scope":"read","sha256":"\#(Self.digest)"}"#, "name must be"),
        ]
        for (entries, message) in bad {
            #expect {
                try AccessTokenFile.parse(Self.file(entries), path: "tokens.json")
            } throws: { error in
                "\(error)".hasPrefix("tokens.json tokens[") && "\(error)".contains(message)
            }
        }
        #expect(throws: AccessTokenFileError.self) { try AccessTokenFile.parse(Data("not json".utf8), path: "x") }
        #expect(throws: AccessTokenFileError.self) { try AccessTokenFile.load(path: "/nonexistent/tokens.json") }
    }

    @Test("The access log names the token and no log line, at debug level, holds a token")
    func logs() async throws {
        let lines = LogLines()
        try await withAPI(logger: lines.logger(level: .trace), tokens: Tokens.table()) { client in
            for token in [Tokens.admin, Tokens.read, Tokens.unknown, Tokens.tenant] {
                _ = try await client.execute(uri: "/kv/t/a", method: .put, headers: Tokens.bearer(token), body: ByteBuffer(string: "v"))
                _ = try await client.execute(uri: "/kv/u/a", method: .get, headers: Tokens.bearer(token))
                _ = try await client.execute(uri: "/metrics", method: .get, headers: Tokens.bearer(token))
            }
        }
        let all = lines.all.joined()
        #expect(!all.isEmpty)
        for token in [Tokens.admin, Tokens.read, Tokens.unknown, Tokens.tenant] {
            #expect(!all.contains(token))
            #expect(!all.contains(String(token.prefix(12))))
        }
        let requests = try lines.objects().filter { $0["message"] as? String == "request" }
        #expect(Set(requests.compactMap { $0["token"] as? String }) == ["ops", "reader", "tenant-t"])
        #expect(requests.contains { $0["token"] == nil && $0["status"] as? Int == 401 })
    }

    @Test("Refusals are counted by reason")
    func metrics() async throws {
        let registry = KVMetrics.registry()
        try await withAPI(metrics: registry, tokens: Tokens.table()) { client in
            _ = try await client.execute(uri: "/kv/a", method: .get)
            _ = try await client.execute(uri: "/kv/a", method: .get, headers: Tokens.bearer(Tokens.unknown))
            _ = try await client.execute(uri: "/kv/a", method: .get, headers: [.authorization: "Basic x"])
            _ = try await client.execute(uri: "/kv/a", method: .put, headers: Tokens.bearer(Tokens.read), body: ByteBuffer(string: "v"))
            _ = try await client.execute(uri: "/kv/u", method: .get, headers: Tokens.bearer(Tokens.tenant))
        }
        let exposition = String(decoding: registry.exposition(), as: UTF8.self)
        for reason in ["missing", "unknown", "malformed", "scope", "prefix"] {
            #expect(exposition.contains(#"s3kv_auth_failures_total{reason="\#(reason)"} 1"#), "\(reason)")
        }
    }

    @Test("An address that keeps failing is answered 429 without its token being looked at, and regains one attempt per interval")
    func throttling() async throws {
        let clock = ManualClock()
        let monotonic = clock.storeClock.monotonic
        let throttle = AuthThrottle(.init(burst: 3, interval: .seconds(2)), now: monotonic)
        try await withAPI(tokens: Tokens.table(), throttle: throttle) { client in
            func get(_ token: String) async throws -> TestResponse {
                try await client.execute(uri: "/kv/a", method: .get, headers: Tokens.bearer(token))
            }
            for _ in 0..<3 { #expect(try await get(Tokens.unknown).status == .unauthorized) }
            let throttled = try await get(Tokens.unknown)
            try throttled.expectError(.tooManyRequests, "too_many_auth_failures")
            #expect(throttled.headers[.retryAfter] == "2")
            // Even a good token waits: a guess made now tells nothing.
            do {
                let status = try await get(Tokens.read).status
                #expect(status == .tooManyRequests)
            }
            clock.advance(.seconds(2))
            do {
                let status = try await get(Tokens.unknown).status
                #expect(status == .unauthorized)
            }
            do {
                let status = try await get(Tokens.read).status
                #expect(status == .tooManyRequests)
            }
            clock.advance(.seconds(2))
            do {
                let status = try await get(Tokens.read).status
                #expect(status == .notFound)
            }
            // Once every allowance is whole, the table is empty again.
            clock.advance(.seconds(6))
            do {
                let status = try await get(Tokens.read).status
                #expect(status == .notFound)
            }
            #expect(throttle.trackedAddresses == 0)
        }
    }

    @Test("The throttle's table stays within its bound, forgetting the longest-quiet address")
    func boundedTable() {
        let clock = ManualClock()
        let throttle = AuthThrottle(.init(burst: 1, interval: .seconds(60), maximumAddresses: 100), now: clock.storeClock.monotonic)
        for index in 0..<1_000 {
            throttle.recordFailure(from: "10.0.\(index / 256).\(index % 256)")
            clock.advance(.milliseconds(1))
        }
        #expect(throttle.trackedAddresses == 100)
        #expect(throttle.wait(for: "10.0.3.231") != nil)
        #expect(throttle.wait(for: "10.0.0.0") == nil)
    }

    @Test("A reload swaps the table: an added token works and a removed one is refused from the next request")
    func replace() async throws {
        let table = Tokens.table()
        try await withAPI(tokens: table) { client in
            do {
                let status = try await client.execute(uri: "/kv/a", method: .get, headers: Tokens.bearer(Tokens.read)).status
                #expect(status == .notFound)
            }
            table.replace(with: [AccessToken(name: "new", scope: .read, secret: "brand-new-token-0123")])
            do {
                let status = try await client.execute(uri: "/kv/a", method: .get, headers: Tokens.bearer(Tokens.read)).status
                #expect(status == .unauthorized)
            }
            do {
                let status = try await client.execute(uri: "/kv/a", method: .get, headers: Tokens.bearer("brand-new-token-0123")).status
                #expect(status == .notFound)
            }
        }
    }
}
