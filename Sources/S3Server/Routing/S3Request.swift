import Hummingbird
import ObjectStore
import S3Protocol
import WireFormat

/// A request to the S3 REST API: path-style (`/`, `/bucket`, `/bucket/key`), or virtual-hosted
/// (`bucket.<domain>` with the key as the path) when the server has a domain and the request's
/// host is under it.
struct S3Request {
    let bucket: String?
    /// The object name, exactly its bytes.
    let key: ObjectName?
    /// The query's parameters, each decoded once, in arrival order.
    let query: [(name: String, value: String)]

    /// - Parameter domain: the server's domain for virtual-hosted addressing (`s3.localhost`);
    ///   a request to `photos.s3.localhost` is for bucket `photos`. Nil: path-style only.
    init(_ request: Request, domain: String? = nil) throws(S3Error) {
        let raw = request.uri.path
        guard let bytes = PercentEncoding.decode(Substring(raw).utf8) else {
            throw S3Error(code: "InvalidURI", message: "Couldn't parse the specified URI.", status: 400)
        }
        var path = bytes[...]
        if path.first == UInt8(ascii: "/") { path = path.dropFirst() }
        if let domain, let bucket = Self.virtualHostBucket(authority: request.head.authority, domain: domain) {
            self.bucket = bucket
            self.key = try Self.key(path)
        } else if let slash = path.firstIndex(of: UInt8(ascii: "/")) {
            self.bucket = String(decoding: path[..<slash], as: UTF8.self)
            self.key = try Self.key(path[(slash + 1)...])
        } else {
            self.bucket = path.isEmpty ? nil : String(decoding: path, as: UTF8.self)
            self.key = nil
        }
        self.query = SigV4Verifier.parseQuery(request.uri.query ?? "")
    }

    private static func key(_ bytes: ArraySlice<UInt8>) throws(S3Error) -> ObjectName? {
        if bytes.isEmpty { return nil }
        guard let key = ObjectName(validatingUTF8: bytes) else {
            throw S3Error(code: "InvalidURI", message: "Couldn't parse the specified URI: the key is not UTF-8.", status: 400)
        }
        guard key.byteCount <= 1024 else {
            throw S3Error(code: "KeyTooLongError", message: "Your key is too long", status: 400)
        }
        return key
    }

    /// The bucket a virtual-hosted host names: what precedes `.<domain>` (port aside, compared
    /// without case, as host names are); nil for the domain itself or any other host.
    static func virtualHostBucket(authority: String?, domain: String) -> String? {
        guard var host = authority?.lowercased() else { return nil }
        if host.hasPrefix("[") { return nil }  // an IPv6 literal
        if let colon = host.lastIndex(of: ":") { host = String(host[..<colon]) }
        let suffix = "." + domain.lowercased()
        guard host.hasSuffix(suffix), host.count > suffix.count else { return nil }
        return String(host.dropLast(suffix.count))
    }

    func has(_ name: String) -> Bool { self.query.contains { $0.name == name } }
    func value(_ name: String) -> String? { self.query.first { $0.name == name }?.value }
}
