import Logging
import NIOCore

/// Closes a connection whose client has stopped taking its response.
///
/// Hummingbird's idle timeout closes a connection only while no request is in progress, so a
/// client that stops reading in the middle of a response (a large value, a long listing) would
/// hold the connection, the response's backend stream (a file, a pooled S3 connection) and its
/// buffers for as long as it likes. Backpressure has already stopped the writing: the channel is
/// unwritable, and the response's writer waits. From then on this watch looks at the bytes
/// waiting to be sent once per `timeout`: when they have not changed since the last look, the
/// socket has taken none of them, and the connection is closed, which fails the response's
/// pending write and so ends its backend stream. A slow reader that keeps taking bytes is never
/// cut off; neither is an idle connection, which the idle timeout handles.
///
/// Driven by the first handler of the pipeline (``RawBytesGuard``), which sees writability
/// change, so the watch adds no handler to every request's path. Used on its channel's event
/// loop only.
final class StalledReaderWatch {
    let timeout: Duration
    let rejections: GuardedHTTP1Channel.Rejections
    let logger: Logger
    private var check: Scheduled<Void>?
    /// The bytes waiting at the last look.
    private var waiting: Int64 = 0

    init(timeout: Duration, rejections: GuardedHTTP1Channel.Rejections, logger: Logger) {
        self.timeout = timeout
        self.rejections = rejections
        self.logger = logger
    }

    func writabilityChanged(_ context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.stop()
        } else if self.check == nil {
            self.waiting = Self.waitingBytes(context)
            self.scheduleCheck(context)
        }
    }

    func stop() {
        self.check?.cancel()
        self.check = nil
    }

    private func scheduleCheck(_ context: ChannelHandlerContext) {
        self.check = context.eventLoop.assumeIsolated().scheduleTask(in: .init(self.timeout)) { [self] in
            self.check = nil
            guard context.channel.isActive, !context.channel.isWritable else { return }
            let waiting = Self.waitingBytes(context)
            // While the channel is unwritable nothing new is written, so any change is bytes taken.
            if waiting != self.waiting {
                self.waiting = waiting
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

    /// The bytes written to the channel and not yet taken by the socket.
    private static func waitingBytes(_ context: ChannelHandlerContext) -> Int64 {
        (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)).map(Int64.init) ?? 0
    }
}
