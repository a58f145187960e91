import CoreMetrics
public import Foundation
public import Hummingbird
import Logging
import NIOCore
import ObjectStore
import S3Protocol
public import ServerSupport

/// The S3 REST API over a ``BucketRegistry``: authenticates each request with SigV4, dispatches
/// it by method, path and sub-resource, and answers every failure with S3's XML error.
///
/// An operation the server does not implement answers `501 NotImplemented`, never a success
/// that did nothing.
public struct S3Responder: HTTPResponder {
    public typealias Context = BasicRequestContext

    let buckets: BucketRegistry
    let configuration: S3ServerConfiguration
    let verifier: SigV4Verifier
    let now: @Sendable () -> Date
    let metrics: HTTPMetrics
    let operations: OperationsEndpoints

    /// - Parameters:
    ///   - metrics: where the HTTP metrics go, and what `/_s3kv/metrics` serves.
    ///   - draining: whether shutdown has begun (readiness then answers 503).
    public init(
        buckets: BucketRegistry, configuration: S3ServerConfiguration, metrics: MetricsRegistry = MetricsRegistry(),
        draining: @escaping @Sendable () -> Bool = { false }, now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.buckets = buckets
        self.configuration = configuration
        let keys = Dictionary(configuration.credentials.map { ($0.accessKeyID, $0) }, uniquingKeysWith: { first, _ in first })
        self.verifier = SigV4Verifier(region: configuration.region, maximumSkew: configuration.maximumClockSkew) { keys[$0] }
        self.now = now
        self.metrics = HTTPMetrics(factory: metrics.factory)
        self.operations = OperationsEndpoints(buckets: buckets, metrics: metrics, draining: draining)
    }

    /// Answers one request, measured (metrics by S3 operation, one access log line) and under
    /// its request id: a proxy's `X-Request-ID` when well-formed, else a fresh one; either way
    /// returned as `x-amz-request-id` and `X-Request-ID`, and on every log line of the request.
    public func respond(to request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        let requestID = RequestID.resolve(request.headers)
        var context = context
        context.logger[metadataKey: "hb.request.id"] = nil
        context.logger[metadataKey: "request_id"] = .string(requestID)
        self.metrics.inFlight.increment()
        defer { self.metrics.inFlight.decrement() }
        var (response, route) = await RequestID.$current.withValue(requestID) {
            await self.answer(request, context: context, requestID: requestID)
        }
        response.headers[.init("x-amz-request-id")!] = requestID
        response.headers[.requestID] = requestID
        self.metrics.finish(
            request, logger: context.logger, route: route, method: HTTPMetrics.methodLabel(request.method), status: response.status.code,
            responseBytes: response.body.contentLength, duration: ContinuousClock.now - start, quiet: route.hasPrefix(OperationsEndpoints.prefix)
        )
        return response
    }

    /// The response, and the route label: the S3 operation, or the operations endpoint's path.
    private func answer(_ request: Request, context: Context, requestID: String) async -> (Response, String) {
        if let response = self.operations.respond(path: request.uri.path, method: request.method) { return (response, request.uri.path) }
        var route = "Invalid"
        do {
            let s3 = try S3Request(request, domain: self.configuration.domain)
            route = S3Operation.name(request.method, s3, copySource: request.headers[.init("x-amz-copy-source")!] != nil)
            let verified = try self.authenticate(request)
            return (try await self.dispatch(request, s3, verified: verified, context: context), route)
        } catch let error as S3Error {
            if error.status >= 500 {
                context.logger.error("s3 request failed", metadata: ["code": "\(error.code)", "message": "\(error.message)"])
            }
            return (Self.errorResponse(error, requestID: requestID, method: request.method), route)
        } catch {
            let mapped = S3ServerErrors.from(error)
            if mapped.status >= 500 {
                context.logger.error("s3 request failed", metadata: ["code": "\(mapped.code)", "error": "\(error)"])
            }
            return (Self.errorResponse(mapped, requestID: requestID, method: request.method), route)
        }
    }

    private func authenticate(_ request: Request) throws(S3Error) -> SigV4Verifier.Verified? {
        var headers = request.headers.map { (name: $0.name.rawName, value: $0.value) }
        // HTTP/1.1's Host header arrives as the request's authority, not among its fields.
        if let authority = request.head.authority { headers.append((name: "host", value: authority)) }
        let signed = SigV4Verifier.Request(
            method: request.method.rawValue, rawPath: request.uri.path, rawQuery: request.uri.query ?? "", headers: headers
        )
        let verified = try self.verifier.verify(signed, now: self.now())
        if verified == nil, !self.configuration.allowAnonymous {
            throw S3Error(code: "AccessDenied", message: "Access Denied: sign requests with SigV4", status: 403)
        }
        return verified
    }

    private func dispatch(_ request: Request, _ s3: S3Request, verified: SigV4Verifier.Verified?, context: Context) async throws -> Response {
        guard let bucket = s3.bucket else {
            guard request.method == .get else { throw S3Error(code: "MethodNotAllowed", message: "The specified method is not allowed against this resource.", status: 405) }
            return self.listBuckets()
        }
        guard let key = s3.key else {
            return try await self.bucketOperation(request, s3, bucket: bucket)
        }
        for unsupported in ["acl", "tagging", "retention", "legal-hold", "torrent", "restore", "select", "attributes"] where s3.has(unsupported) {
            throw S3ServerErrors.notImplemented("the '\(unsupported)' sub-resource")
        }
        // Writes run as ones a DeleteBucket waits for; reads need not (an empty bucket has
        // nothing to read).
        if request.method == .get || request.method == .head {
            return try await self.objectOperation(request, s3, bucket: bucket, key: key, verified: verified)
        }
        return try await self.buckets.whileWriting(bucket) {
            try await self.objectOperation(request, s3, bucket: bucket, key: key, verified: verified)
        }
    }

    private func objectOperation(_ request: Request, _ s3: S3Request, bucket: String, key: ObjectName, verified: SigV4Verifier.Verified?) async throws -> Response {
        switch request.method {
        case .post where s3.has("uploads"): return try await self.createMultipartUpload(request, bucket: bucket, key: key)
        case .post where s3.has("uploadId"): return try await self.completeMultipartUpload(request, s3, bucket: bucket, key: key)
        case .put where s3.has("uploadId"): return try await self.uploadPart(request, s3, bucket: bucket, key: key, verified: verified)
        case .delete where s3.has("uploadId"): return try await self.abortMultipartUpload(s3, bucket: bucket, key: key)
        case .get where s3.has("uploadId"): return try await self.listParts(s3, bucket: bucket, key: key)
        default: break
        }
        let store = try self.buckets.store(bucket)
        switch request.method {
        case .put:
            if request.headers[.init("x-amz-copy-source")!] != nil { return try await self.copyObject(request, bucket: bucket, store: store, key: key) }
            return try await self.putObject(request, store: store, key: key, verified: verified)
        case .get: return try await self.getObject(request, s3, store: store, key: key, head: false)
        case .head: return try await self.getObject(request, s3, store: store, key: key, head: true)
        case .delete: return try await self.deleteObject(request, store: store, key: key)
        default: throw S3Error(code: "MethodNotAllowed", message: "The specified method is not allowed against this resource.", status: 405)
        }
    }

    // MARK: Answers

    static func xmlResponse(_ writer: XMLWriter, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/xml"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: writer.bytes))
        )
    }

    static func errorResponse(_ error: S3Error, requestID: String, method: HTTPRequest.Method) -> Response {
        let status = HTTPResponse.Status(code: error.status == 0 ? 500 : error.status)
        // HEAD answers and 304s have no body.
        if method == .head || error.status == 304 {
            return Response(status: status)
        }
        return Response(
            status: status, headers: [.contentType: "application/xml"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: errorDocument(error, requestID: requestID)))
        )
    }

    /// S3's `<Error>` document.
    static func errorDocument(_ error: S3Error, requestID: String) -> [UInt8] {
        var writer = XMLWriter()
        writer.element("Error") {
            $0.element("Code", error.code)
            $0.element("Message", error.message)
            $0.element("RequestId", requestID)
        }
        return writer.bytes
    }
}
