import Hummingbird
import ObjectStore
import S3Protocol
import WireFormat

/// A request to the S3 REST API, path-style: `/`, `/bucket`, or `/bucket/key`.
struct S3Request {
    let bucket: String?
    /// The object name, exactly its bytes.
    let key: ObjectName?
    /// The query's parameters, each decoded once, in arrival order.
    let query: [(name: String, value: String)]

    init(_ request: Request) throws(S3Error) {
        let raw = request.uri.path
        guard let bytes = PercentEncoding.decode(Substring(raw).utf8) else {
            throw S3Error(code: "InvalidURI", message: "Couldn't parse the specified URI.", status: 400)
        }
        var path = bytes[...]
        if path.first == UInt8(ascii: "/") { path = path.dropFirst() }
        if let slash = path.firstIndex(of: UInt8(ascii: "/")) {
            self.bucket = String(decoding: path[..<slash], as: UTF8.self)
            let keyBytes = path[(slash + 1)...]
            if keyBytes.isEmpty {
                self.key = nil
            } else {
                guard let key = ObjectName(validatingUTF8: keyBytes) else {
                    throw S3Error(code: "InvalidURI", message: "Couldn't parse the specified URI: the key is not UTF-8.", status: 400)
                }
                guard key.byteCount <= 1024 else {
                    throw S3Error(code: "KeyTooLongError", message: "Your key is too long", status: 400)
                }
                self.key = key
            }
        } else {
            self.bucket = path.isEmpty ? nil : String(decoding: path, as: UTF8.self)
            self.key = nil
        }
        self.query = SigV4Verifier.parseQuery(request.uri.query ?? "")
    }

    func has(_ name: String) -> Bool { self.query.contains { $0.name == name } }
    func value(_ name: String) -> String? { self.query.first { $0.name == name }?.value }
}
