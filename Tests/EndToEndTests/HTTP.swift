import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import WireFormat

/// A minimal HTTP helper over AsyncHTTPClient's shared client.
enum HTTP {
    struct Response {
        var status: UInt
        var headers: [(String, String)]
        var body: [UInt8]
        var text: String { String(decoding: self.body, as: UTF8.self) }

        /// The first header named `name`, case-insensitively.
        func header(_ name: String) -> String? {
            self.headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    /// As ``request(_:method:headers:body:)``, sent again (at most 5 times) while the answer is
    /// a plain 503 (the backend was briefly unreachable): for steps a test needs to go through.
    static func retrying(_ url: String, method: HTTPMethod, headers: [(String, String)] = [], body: [UInt8]? = nil) async throws -> Response {
        var response = try await request(url, method: method, headers: headers, body: body)
        for _ in 0..<4 where response.status == 503 && !response.text.contains("outcome_unknown") {
            try await Task.sleep(for: .milliseconds(100))
            response = try await request(url, method: method, headers: headers, body: body)
        }
        return response
    }

    static func request(_ url: String, method: HTTPMethod, headers: [(String, String)] = [], body: [UInt8]? = nil) async throws -> Response {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
        let bytes = try await response.body.collect(upTo: 256 * 1024 * 1024)
        return Response(
            status: response.status.code,
            headers: response.headers.map { ($0.name, $0.value) },
            body: Array(bytes.readableBytesView)
        )
    }

    /// Percent-encodes everything but unreserved characters and '/'.
    static func escape(_ key: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        return key.addingPercentEncoding(withAllowedCharacters: allowed)!
    }
}
