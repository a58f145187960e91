import Foundation
public import HTTPTypes
import Hummingbird
public import KVStore

/// An error as the HTTP API reports it: a status, a stable machine-readable code, a message
/// for people, and any headers the status calls for (`Allow`, `Retry-After`).
///
/// Rendered as `{"error": {"code", "message", "request_id"}}` by ``ErrorMiddleware``.
public struct APIError: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var headers: HTTPFields
    /// For a refused batch: every bad item.
    public var items: [ItemProblem]?
    /// For a refusal by access control: why, as `s3kv_auth_failures_total` counts it.
    var authFailure: AuthFailure?

    public init(_ status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    /// A batch refused before anything was written, listing every bad item.
    static func invalidBatch(_ items: [ItemProblem]) -> APIError {
        var error = APIError(
            .badRequest, code: "invalid_batch",
            message: "\(items.count) item\(items.count == 1 ? "" : "s") cannot be carried out as given; nothing was done"
        )
        error.items = items
        return error
    }

    static func batchTooLarge(limit: Int) -> APIError {
        .init(.contentTooLarge, code: "batch_too_large", message: "the batch is larger than the limit of \(limit) bytes")
    }

    /// The API's reading of any error a store operation throws.
    static func describing(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: error
        case let error as KVError: APIError(error)
        case let error as KeyError: APIError(error)
        default: APIError(.internalServerError, code: "internal_error", message: "an unexpected error occurred")
        }
    }

    /// Seconds a client should wait before retrying after a backend outage.
    public static let retryAfterSeconds = 1

    public static func badRequest(_ code: String, _ message: String) -> APIError {
        .init(.badRequest, code: code, message: message)
    }

    public static func valueTooLarge(limit: Int) -> APIError {
        .init(.contentTooLarge, code: "value_too_large", message: "the value is larger than the limit of \(limit) bytes")
    }

    public static func methodNotAllowed(_ method: HTTPRequest.Method, allowed: [HTTPRequest.Method]) -> APIError {
        let allow = allowed.map(\.rawValue).joined(separator: ", ")
        return .init(
            .methodNotAllowed, code: "method_not_allowed",
            message: "\(method.rawValue) is not allowed here; allowed: \(allow)",
            headers: [.allow: allow]
        )
    }

    /// A body that could not be read: it ended before its declared length, or its framing is
    /// invalid. Nothing was written.
    static let malformedBody = APIError(
        .badRequest, code: "malformed_body", message: "the request body ended early or its framing is invalid; nothing was written"
    )

    /// The body did not arrive within the request timeout. Nothing was written.
    static let requestTimeout = APIError(
        .requestTimeout, code: "request_timeout", message: "the request body did not arrive within the request timeout; nothing was written"
    )

    /// The server is at a limit (buffered bytes, requests in flight): nothing was done; retry.
    static func overloaded(_ reason: String) -> APIError {
        APIError(
            .serviceUnavailable, code: "overloaded", message: "the server is overloaded (\(reason)); retry",
            headers: [.retryAfter: String(retryAfterSeconds)]
        )
    }

    /// A request still running when the shutdown timeout ran out: cancelled, nothing acknowledged.
    public static let shuttingDown = APIError(
        .serviceUnavailable, code: "shutting_down", message: "the server is shutting down; retry",
        headers: [.retryAfter: String(retryAfterSeconds)]
    )

    public static func routeNotFound(_ path: String) -> APIError {
        .init(.notFound, code: "route_not_found", message: "no such endpoint: \(path)")
    }

    /// The API's reading of a key-value domain error.
    public init(_ error: KVError) {
        switch error.code {
        case .notFound:
            self.init(.notFound, code: "key_not_found", message: error.message)
        case .versionNotFound:
            self.init(.notFound, code: "version_not_found", message: error.message)
        case .conditionFailed:
            self.init(.preconditionFailed, code: "precondition_failed", message: error.message)
        case .conflict:
            self.init(.conflict, code: "write_conflict", message: error.message)
        case .notModified:
            self.init(.notModified, code: "not_modified", message: error.message)
        case .invalidRequest:
            self.init(.badRequest, code: "invalid_request", message: error.message)
        case .backendUnavailable:
            self.init(
                .serviceUnavailable, code: "backend_unavailable", message: error.message,
                headers: [.retryAfter: String(Self.retryAfterSeconds)]
            )
        case .rangeNotSatisfiable:
            self.init(.rangeNotSatisfiable, code: "range_not_satisfiable", message: error.message)
        case .insufficientStorage:
            self.init(.init(code: 507, reasonPhrase: "Insufficient Storage"), code: "insufficient_storage", message: error.message)
        case .overloaded:
            self.init(
                .serviceUnavailable, code: "overloaded", message: error.message, headers: [.retryAfter: String(Self.retryAfterSeconds)]
            )
        case .timedOut:
            self.init(
                .serviceUnavailable, code: "timeout", message: error.message, headers: [.retryAfter: String(Self.retryAfterSeconds)]
            )
        case .outcomeUnknown:
            self.init(
                .serviceUnavailable, code: "outcome_unknown", message: error.message,
                headers: [.retryAfter: String(Self.retryAfterSeconds)]
            )
        default:
            self.init(.badGateway, code: "backend_failure", message: error.message)
        }
    }

    /// The API's reading of an invalid key.
    public init(_ error: KeyError) {
        self.init(.badRequest, code: error.code, message: error.message)
    }

    /// The JSON body for this error.
    func body(requestID: String) -> ByteBuffer {
        struct Body: Encodable {
            struct Detail: Encodable {
                var code: String
                var message: String
                var request_id: String
                var items: [ItemProblem]?
            }
            var error: Detail
        }
        let body = Body(error: .init(code: self.code, message: self.message, request_id: requestID, items: self.items))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding three strings cannot fail.
        let data = (try? encoder.encode(body)) ?? Data()
        return ByteBuffer(bytes: data)
    }
}
