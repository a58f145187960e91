import HTTPTypes
import Hummingbird
import Logging

extension HTTPField.Name {
    /// The request id header, honoured when a client or proxy sends it and echoed on responses.
    public static let requestID = HTTPField.Name("X-Request-ID")!
}

/// Gives every request an id: the client's `X-Request-ID` when it is well-formed, otherwise a
/// fresh one. The id goes into the context, the request's logger metadata and the response.
///
/// While the request is served the id is also a task-local value, so every logger made with
/// ``metadataProvider``, the storage layer's included, tags its lines with it without the id
/// being passed down through every call.
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = KVRequestContext

    /// The id of the request the current task is serving, if any.
    @TaskLocal public static var current: String?

    /// Adds `request_id` to every log line emitted while a request is served.
    public static let metadataProvider = Logger.MetadataProvider {
        guard let id = RequestIDMiddleware.current else { return [:] }
        return ["request_id": .string(id)]
    }

    /// The longest client-supplied id that is honoured.
    public static let maximumLength = 128

    private let generate: @Sendable () -> String

    /// - Parameter generate: makes ids for requests that bring none; injected so tests are exact.
    public init(generate: @escaping @Sendable () -> String = RequestIDMiddleware.randomID) {
        self.generate = generate
    }

    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let id = request.headers[.requestID].flatMap { Self.isWellFormed($0) ? $0 : nil } ?? self.generate()
        context.requestID = id
        context.logger[metadataKey: "hb.request.id"] = nil
        context.logger[metadataKey: "request_id"] = .string(id)
        var response = try await Self.$current.withValue(id) { try await next(request, context) }
        response.headers[.requestID] = id
        return response
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
    @Sendable public static func randomID() -> String {
        let high = String(UInt64.random(in: .min ... .max), radix: 16)
        let low = String(UInt64.random(in: .min ... .max), radix: 16)
        return String(repeating: "0", count: 16 - high.count) + high + String(repeating: "0", count: 16 - low.count) + low
    }
}
