import Logging
import NIOCore

/// Closes a connection whose client has stopped taking its response.
///
/// Hummingbird's idle timeout closes a connection only while no request is in progress, so a
/// client that stops reading in the middle of a response (a large value, a long listing) would
/// hold the connection, the response's backend stream (a file, a pooled S3 connection) and its
/// buffers for as long as it likes. Backpressure has already stopped the writing: the channel is
/// unwritable. From then on this guard looks at the bytes waiting to be sent once per `timeout`:
/// when the socket has taken none of them since the last look (counting what was written
/// meanwhile), the connection is closed, which fails the response's pending write and so ends
/// its backend stream. A slow reader that keeps taking
/// bytes is never cut off; neither is an idle connection, which the idle timeout handles.
///
/// Used on its channel's event loop only.
final class StalledReaderGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    let timeout: Duration
    let rejections: GuardedHTTP1Channel.Rejections
    let logger: Logger
    private var check: Scheduled<Void>?
    /// The bytes waiting at the last look.
    private var waiting: Int64 = 0
    /// The bytes written since the last look, while watching.
    private var written: Int64 = 0

    init(timeout: Duration, rejections: GuardedHTTP1Channel.Rejections, logger: Logger) {
        self.timeout = timeout
        self.rejections = rejections
        self.logger = logger
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.stopWatching()
        } else if self.check == nil {
            (self.waiting, self.written) = (Self.waitingBytes(context), 0)
            self.scheduleCheck(context)
        }
        context.fireChannelWritabilityChanged()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if self.check != nil { self.written += Int64(self.unwrapOutboundIn(data).readableBytes) }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.stopWatching()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.stopWatching()
    }

    private func scheduleCheck(_ context: ChannelHandlerContext) {
        self.check = context.eventLoop.assumeIsolated().scheduleTask(in: .init(self.timeout)) { [self] in
            self.check = nil
            guard context.channel.isActive, !context.channel.isWritable else { return }
            let waiting = Self.waitingBytes(context)
            if waiting < self.waiting + self.written {
                (self.waiting, self.written) = (waiting, 0)
                self.scheduleCheck(context)
                return
            }
            self.rejections.count(.stalledReader)
            self.logger.notice(
                "closed a connection whose client stopped reading its response",
                metadata: ["timeout": "\(self.timeout)", "unsent_bytes": "\(waiting)"]
            )
            context.close(promise: nil)
        }
    }

    private func stopWatching() {
        self.check?.cancel()
        self.check = nil
    }

    /// The bytes written to the channel and not yet taken by the socket.
    private static func waitingBytes(_ context: ChannelHandlerContext) -> Int64 {
        (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)).map(Int64.init) ?? 0
    }
}
