import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import WireFormat

/// The smallest client of the KV API that the checks need: one request, its whole answer.
///
/// Paths are sent as given (the checks percent-encode keys themselves), so a check can send a
/// path the server must refuse, such as `a//b` or an invalid escape.
struct KVClient: Sendable {
    let baseURL: String
    let httpClient: HTTPClient
    let timeout: Duration
    /// Headers every request carries (an `Authorization` header, say).
    let headers: [(String, String)]

    /// The most of an answer's body a check reads; the largest value the checks write is below it.
    static let maximumBody = 256 << 20

    /// One request; throws only when no answer arrived (a transport error or the timeout).
    ///
    /// Reads carry `Cache-Control: no-cache` unless `cached`: behind a load balancer the read
    /// that checks a write may reach another instance, whose cache may be up to its staleness
    /// bound behind, and a client that needs its own writes across instances reads this way.
    func send(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil, cached: Bool = false
    ) async throws -> KVResponse {
        var request = HTTPClientRequest(url: self.baseURL + path)
        request.method = method
        request.headers.add(contentsOf: self.headers)
        request.headers.add(contentsOf: headers)
        if !cached, method == .GET || method == .HEAD, !request.headers.contains(name: "cache-control") {
            request.headers.add(name: "cache-control", value: "no-cache")
        }
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await self.httpClient.execute(request, timeout: TimeAmount(self.timeout))
        let bytes = try await response.body.collect(upTo: Self.maximumBody)
        return KVResponse(
            method: method, path: path, status: Int(response.status.code), headers: response.headers,
            body: Array(buffer: bytes)
        )
    }

    /// The path of `key` under `/kv/`, each byte other than S3's unreserved ones and `/`
    /// percent-encoded, so the server decodes exactly these bytes.
    static func path(_ key: String, query: String? = nil) -> String {
        "/kv/" + PercentEncoding.encode(key.utf8, keepSlash: true) + (query.map { "?" + $0 } ?? "")
    }
}
