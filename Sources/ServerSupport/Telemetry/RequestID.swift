public import HTTPTypes
public import Logging

/// Request ids, as both servers give them: the client's or proxy's `X-Request-ID` when it is
/// well-formed, otherwise a fresh random one.
public enum RequestID {
    /// The id of the request the current task is serving, if any.
    @TaskLocal public static var current: String?

    /// Adds `request_id` to every log line emitted while a request is served.
    public static let metadataProvider = Logger.MetadataProvider {
        guard let id = RequestID.current else { return [:] }
        return ["request_id": .string(id)]
    }

    /// The longest client-supplied id that is honoured.
    public static let maximumLength = 128

    /// The id of a request with `headers`: its well-formed `X-Request-ID`, or `generate()`.
    public static func resolve(_ headers: HTTPFields, generate: () -> String = RequestID.random) -> String {
        headers[.requestID].flatMap { isWellFormed($0) ? $0 : nil } ?? generate()
    }

    /// 1 to ``maximumLength`` characters from `A-Z a-z 0-9 - _ . : /`: safe in headers, logs and JSON.
    public static func isWellFormed(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= maximumLength
            && id.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                    UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "/"):
                    true
                default:
                    false
                }
            }
    }

    /// 32 random hex digits.
    @Sendable public static func random() -> String {
        let high = String(UInt64.random(in: .min ... .max), radix: 16)
        let low = String(UInt64.random(in: .min ... .max), radix: 16)
        return String(repeating: "0", count: 16 - high.count) + high + String(repeating: "0", count: 16 - low.count) + low
    }
}
