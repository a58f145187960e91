public import HTTPTypes
public import Hummingbird
import Logging

extension HTTPField.Name {
    /// The request id header, honoured when a client or proxy sends it and echoed on responses.
    public static let requestID = HTTPField.Name("X-Request-ID")!
}

/// A request context that carries the request's id.
public protocol RequestIDContext: RequestContext {
    /// Set by ``RequestIDMiddleware`` before any handler runs.
    var requestID: String { get set }
}

/// Gives every request an id (see ``RequestID/resolve(_:generate:)``). The id goes into the
/// context, the request's logger metadata and the response.
///
/// While the request is served the id is also the task-local ``RequestID/current``, so every
/// logger made with ``RequestID/metadataProvider``, the storage layer's included, tags its lines
/// with it without the id being passed down through every call.
public struct RequestIDMiddleware<Context: RequestIDContext>: RouterMiddleware {
    private let generate: @Sendable () -> String

    /// - Parameter generate: makes ids for requests that bring none; injected so tests are exact.
    public init(generate: @escaping @Sendable () -> String = RequestID.random) {
        self.generate = generate
    }

    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let id = RequestID.resolve(request.headers, generate: self.generate)
        context.requestID = id
        context.logger[metadataKey: "hb.request.id"] = nil
        context.logger[metadataKey: "request_id"] = .string(id)
        var response = try await RequestID.$current.withValue(id) { try await next(request, context) }
        response.headers[.requestID] = id
        return response
    }
}
