public import CoreMetrics
public import HummingbirdCore
public import Logging
public import NIOCore
import NIOHTTP1

/// Hummingbird's HTTP/1.1 channel with guards in front of the router, for both servers:
///
/// - a header timeout: once the first byte of a request head has arrived, the whole head must
///   arrive within it, or the connection is closed. Slow-header clients cannot hold connections
///   open for the (longer) idle timeout;
/// - malformed requests (what the HTTP parser refuses: a bad request line, a bad header, a
///   malformed chunk size) are answered 400 and the connection closed;
/// - an HTTP/1.1 request without `Host` is answered 400 (RFC 9112 §3.2);
/// - a client that stops reading its response for a whole stall timeout is disconnected
///   (``StalledReaderWatch``), so it cannot hold the response's backend stream open;
/// - `Expect: 100-continue` is answered `100 Continue` as soon as the head has arrived, so
///   clients that wait for it before sending a body (boto3 and the AWS CLI for every upload,
///   curl for large ones) do not wait out their own timeout (a second, per request) first.
///
/// Each refusal is logged and counted in `s3kv_http_rejected_total{reason}`, so requests that never
/// reach the router are still seen, and answered in the server's own error vocabulary: `answer`
/// renders it (JSON for the KV API, S3's XML for the S3 server).
public struct GuardedHTTP1Channel: ServerChildChannel {
    public typealias Value = HTTP1Channel.Value

    /// The metric of requests and connections refused before the router.
    public static let rejectedName = "s3kv_http_rejected_total"
    public static let metricHelp = [rejectedName: "Requests refused before routing and connections closed by the HTTP guards, by reason."]

    /// A request refused before routing, for the server to render.
    public struct Refusal: Sendable {
        public var reason: Rejections.Reason
        public var message: String
        public var requestID: String
    }

    /// Renders a refusal as the body of a 400 answer, with its content type.
    public typealias Answer = @Sendable (Refusal) -> (contentType: String, body: ByteBuffer)

    let base: HTTP1Channel
    let headerTimeout: Duration
    let stallTimeout: Duration
    let rejections: Rejections
    let answer: Answer

    /// - Parameter stallTimeout: how long a response may wait for its client to take any of it.
    public init(base: HTTP1Channel, headerTimeout: Duration, stallTimeout: Duration, rejections: Rejections, answer: @escaping Answer) {
        self.base = base
        self.headerTimeout = headerTimeout
        self.stallTimeout = stallTimeout
        self.rejections = rejections
        self.answer = answer
    }

    /// The counters by reason, made once.
    public struct Rejections: Sendable {
        public enum Reason: String, CaseIterable, Sendable {
            case headerTimeout = "header_timeout"
            case malformedRequest = "malformed_request"
            case missingHost = "missing_host"
            case stalledReader = "stalled_reader"
        }

        private let counters: [Reason: CoreMetrics.Counter]

        public init(factory: any MetricsFactory) {
            var counters: [Reason: CoreMetrics.Counter] = [:]
            for reason in Reason.allCases {
                counters[reason] = Counter(label: GuardedHTTP1Channel.rejectedName, dimensions: [("reason", reason.rawValue)], factory: factory)
            }
            self.counters = counters
        }

        func count(_ reason: Reason) { self.counters[reason]?.increment() }
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        self.base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let state = ConnectionGuardState(headerTimeout: self.headerTimeout, rejections: self.rejections, answer: self.answer, logger: logger)
            let operations = channel.pipeline.syncOperations
            let stall = StalledReaderWatch(timeout: self.stallTimeout, rejections: self.rejections, logger: logger)
            try operations.addHandler(RawBytesGuard(state: state, stall: stall), position: .first)
            // After the request decoder (NIO puts the response encoder before it), so parsed
            // parts flow in and response parts flow out through the guard.
            let decoder = try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try operations.addHandler(RequestHeadGuard(state: state), position: .after(decoder))
            return value
        }
    }

    public func handle(value: Value, logger: Logger) async {
        await self.base.handle(value: value, logger: logger)
    }
}

/// What the two guard handlers of one connection share; used on its event loop only.
final class ConnectionGuardState {
    let headerTimeout: Duration
    let rejections: GuardedHTTP1Channel.Rejections
    let answer: GuardedHTTP1Channel.Answer
    let logger: Logger
    /// Between requests: the next bytes start a head.
    var awaitingHead = true
    var headerTimer: Scheduled<Void>?
    /// The front of the pipeline, where an answer of our own is written as raw bytes.
    var rawContext: ChannelHandlerContext?
    /// A refusal was answered; everything after is dropped until the connection closes.
    var rejected = false

    init(headerTimeout: Duration, rejections: GuardedHTTP1Channel.Rejections, answer: @escaping GuardedHTTP1Channel.Answer, logger: Logger) {
        self.headerTimeout = headerTimeout
        self.rejections = rejections
        self.answer = answer
        self.logger = logger
    }

    func bytesArrived() {
        guard self.awaitingHead, self.headerTimer == nil, !self.rejected, let context = self.rawContext else { return }
        self.headerTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .init(self.headerTimeout)) { [self] in
            self.headerTimer = nil
            guard self.awaitingHead, !self.rejected else { return }
            self.rejected = true
            self.rejections.count(.headerTimeout)
            self.logger.notice("closed a connection whose request head did not arrive in time", metadata: ["timeout": "\(self.headerTimeout)"])
            context.close(promise: nil)
        }
    }

    func headArrived() {
        self.awaitingHead = false
        self.headerTimer?.cancel()
        self.headerTimer = nil
    }

    func responseEnded() {
        self.awaitingHead = true
    }

    /// Answers a request that cannot be routed with a 400 in the server's vocabulary and closes
    /// the connection.
    func reject(_ reason: GuardedHTTP1Channel.Rejections.Reason, message: String, detail: String) {
        guard !self.rejected, let context = self.rawContext else { return }
        self.rejected = true
        self.headerTimer?.cancel()
        self.rejections.count(reason)
        let requestID = RequestID.random()
        self.logger.notice(
            "refused a request before routing", metadata: ["reason": "\(reason.rawValue)", "detail": "\(detail)", "request_id": "\(requestID)"]
        )
        let (contentType, body) = self.answer(GuardedHTTP1Channel.Refusal(reason: reason, message: message, requestID: requestID))
        var answer = context.channel.allocator.buffer(capacity: 256 + body.readableBytes)
        answer.writeString(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.readableBytes)\r\n"
                + "X-Request-ID: \(requestID)\r\nConnection: close\r\n\r\n"
        )
        answer.writeImmutableBuffer(body)
        context.writeAndFlush(NIOAny(answer)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}

/// First in the pipeline: sees every byte, so it knows when a head has started, and the
/// socket's writability, for the stalled-reader watch.
final class RawBytesGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let state: ConnectionGuardState
    let stall: StalledReaderWatch

    init(state: ConnectionGuardState, stall: StalledReaderWatch) {
        self.state = state
        self.stall = stall
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.stall.writabilityChanged(context)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.stall.stop()
        context.fireChannelInactive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.state.rawContext = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.state.headerTimer?.cancel()
        self.state.rawContext = nil
        self.stall.stop()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if self.state.rejected { return }
        self.state.bytesArrived()
        context.fireChannelRead(data)
    }
}

/// Between the HTTP/1 codec and Hummingbird's: sees each request head with its version, each
/// response's end, and the parser's errors.
final class RequestHeadGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let state: ConnectionGuardState

    init(state: ConnectionGuardState) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if self.state.rejected { return }
        if case .head(let head) = self.unwrapInboundIn(data) {
            // Only between responses: a 100 written while an earlier response is still going
            // out (a pipelining client) would land in the middle of it.
            let betweenResponses = self.state.awaitingHead
            self.state.headArrived()
            if head.version == .http1_1, !head.headers.contains(name: "host") {
                self.state.reject(.missingHost, message: "an HTTP/1.1 request must have a Host header", detail: "\(head.method) \(head.uri)")
                return
            }
            if betweenResponses, head.version == .http1_1,
                head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" })
            {
                context.writeAndFlush(self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = self.unwrapOutboundIn(data) { self.state.responseEnded() }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A request the parser refuses before its head reached the router: ours to answer.
        // Errors once a request is being routed (a body cut short) reach the handler reading it.
        if error is HTTPParserError, self.state.awaitingHead {
            self.state.reject(.malformedRequest, message: "the request is not valid HTTP/1.1", detail: "\(error)")
            return
        }
        context.fireErrorCaught(error)
    }
}
