public import CoreMetrics
import HTTPTypes
public import Hummingbird
import KVStore
import Logging
import NIOCore
import ServerSupport

/// Turns every error into the API's JSON error response, so clients never see an HTML page, an
/// empty body or a dropped connection. Runs inside ``RequestIDMiddleware`` so errors carry the
/// request id.
public struct ErrorMiddleware: RouterMiddleware {
    public typealias Context = KVRequestContext

    /// The metric of error answers, by the API's error code (a fixed set), so shed load
    /// (`overloaded`), deadlines (`timeout`) and outages (`backend_unavailable`) are told apart.
    static let errorsName = "s3kv_http_errors_total"
    static let metricHelp = [errorsName: "Error answers of the API, by error code."]

    private let routes: RouteTable
    private let maxValueBytes: Int
    private let metrics: any MetricsFactory

    /// - Parameters:
    ///   - routes: the API's paths and methods, to tell 405 from 404.
    ///   - maxValueBytes: the value size limit, for the 413 message.
    ///   - metrics: where error answers are counted by code.
    public init(routes: RouteTable, maxValueBytes: Int, metrics: any MetricsFactory = MetricsSystem.factory) {
        self.routes = routes
        self.maxValueBytes = maxValueBytes
        self.metrics = metrics
    }

    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            return await self.routeByBytes(request, context: context, routerError: error)
        } catch {
            return self.recover(from: error, request: request, context: context)
        }
    }

    /// Hummingbird's router splits a path into `Character`s, so it does not see a `/` followed by
    /// a combining mark (a raw, unencoded key like `/kv/a/\u{301}b`) as a separator and finds no
    /// route. The route table matches by bytes; when it has the endpoint, it answers.
    @inline(never)
    private func routeByBytes(_ request: Request, context: Context, routerError: HTTPError) async -> Response {
        guard let handler = self.routes.handler(forPath: request.uri.path, method: request.method) else {
            return self.recover(from: routerError, request: request, context: context)
        }
        do {
            return try await handler(request, context)
        } catch {
            return self.recover(from: error, request: request, context: context)
        }
    }

    /// Kept out of line and synchronous: its locals then live on the thread's stack, not in the
    /// async frame that every keep-alive connection's task keeps at its high-water mark.
    @inline(never)
    private func recover(from error: any Error, request: Request, context: Context) -> Response {
        let apiError = self.apiError(for: error, request: request)
        Self.count(apiError, metrics: self.metrics)
        if error is CancellationError {
            context.logger.warning("request cut off by shutdown", metadata: ["method": "\(request.method)", "path": "\(request.uri.path)"])
        } else if apiError.status.kind == .serverError {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
        }
        return Self.response(for: apiError, request: request, requestID: context.requestID)
    }

    private func apiError(for error: any Error, request: Request) -> APIError {
        switch error {
        case is CancellationError:
            return .shuttingDown
        case is NIOTooManyBytesError:
            return .valueTooLarge(limit: self.maxValueBytes)
        case let error as HTTPError where error.status == .notFound:
            // The router found no endpoint: either the path is unknown or the method is wrong.
            if let allowed = self.routes.allowedMethods(forPath: request.uri.path) {
                return .methodNotAllowed(request.method, allowed: allowed)
            }
            return .routeNotFound(request.uri.path)
        case let error as any HTTPResponseError:
            return APIError(error.status, code: Self.code(for: error.status), message: error.status.reasonPhrase)
        default:
            return APIError.describing(error)
        }
    }

    /// Counts an error answer by its code, and a refusal by access control by its reason too.
    static func count(_ error: APIError, metrics: any MetricsFactory) {
        Counter(label: Self.errorsName, dimensions: [("code", error.code)], factory: metrics).increment()
        if let reason = error.authFailure {
            Counter(label: AuthorizationMiddleware.failuresName, dimensions: [("reason", reason.rawValue)], factory: metrics).increment()
        }
    }

    /// The response for `error`; 304 and HEAD responses have no body, as HTTP requires.
    static func response(for error: APIError, request: Request, requestID: String) -> Response {
        var headers = error.headers
        if error.status == .notModified {
            return Response(status: error.status, headers: headers)
        }
        headers[.contentType] = "application/json; charset=utf-8"
        let body = error.body(requestID: requestID)
        if request.method == .head {
            headers[.contentLength] = String(body.readableBytes)
            return Response(status: error.status, headers: headers)
        }
        return Response(status: error.status, headers: headers, body: .init(byteBuffer: body))
    }

    private static func code(for status: HTTPResponse.Status) -> String {
        String(status.reasonPhrase.lowercased().map { $0 == " " ? "_" : $0 })
    }
}
