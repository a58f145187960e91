import Foundation
import NIOHTTP1

/// One answer of the KV API, read whole, with what the checks ask of it.
struct KVResponse: Sendable {
    let method: HTTPMethod
    let path: String
    let status: Int
    let headers: HTTPHeaders
    let body: [UInt8]

    func header(_ name: String) -> String? { self.headers.first(name: name) }

    /// The body as a JSON object, or nil when it is not one.
    var json: [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(self.body)) as? [String: Any]
    }

    /// The `error.code` of an error answer.
    var errorCode: String? {
        (self.json?["error"] as? [String: Any])?["code"] as? String
    }

    /// What a failure message says about this answer: the request, the status and its code.
    var summary: String {
        let code = self.errorCode.map { " \($0)" } ?? ""
        return "\(self.method.rawValue) \(self.path.prefix(120)) answered \(self.status)\(code)"
    }

    /// Fails the check unless the status is `expected`.
    @discardableResult
    func expect(_ expected: Int, _ what: @autoclosure () -> String = "") throws(CheckFailure) -> KVResponse {
        guard self.status == expected else {
            let context = what()
            throw CheckFailure("\(context.isEmpty ? "" : context + ": ")\(self.summary), expected \(expected)")
        }
        return self
    }

    /// Fails the check unless the answer is `status` with the JSON error `code`.
    func expectError(_ status: Int, _ code: String, _ what: @autoclosure () -> String = "") throws(CheckFailure) {
        let context = what()
        guard self.status == status, self.errorCode == code else {
            throw CheckFailure("\(context.isEmpty ? "" : context + ": ")\(self.summary), expected \(status) \(code)")
        }
        guard self.header("x-request-id") != nil else {
            throw CheckFailure("\(context.isEmpty ? "" : context + ": ")\(self.summary) without an X-Request-ID")
        }
    }

    /// A number in the JSON body (`version`, `size`, ...).
    func number(_ field: String) -> Int? { jsonInteger(self.json?[field]) }

    func string(_ field: String) -> String? { self.json?[field] as? String }
}

/// A JSON number as an integer (JSONSerialization gives NSNumber).
func jsonInteger(_ value: Any?) -> Int? { (value as? NSNumber)?.intValue }
