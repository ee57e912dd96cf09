import NIOCore
import NIOHTTPTypes

/// Holds each answer on its connection until `latency` after its request arrived: the emulator's `--latency-ms`.
///
/// The delay is a timer on the connection's own event loop: the answer leaves on time without a sleeping task being
/// woken on another thread only to hand the answer back to this one (about an eighth of the emulator's CPU at 20 ms).
/// Answers leave in order; a flush or a close asked for while an answer is held waits for it.
final class ResponseDelayHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private struct HeldPart {
        var part: HTTPResponsePart
        var promise: EventLoopPromise<Void>?
        var releaseAt: NIODeadline
    }

    private let latency: TimeAmount
    /// When each request still unanswered arrived, oldest first.
    private var arrivals = CircularBuffer<NIODeadline>()
    private var held = CircularBuffer<HeldPart>()
    private var flushHeld = false
    private var closesHeld: [(mode: CloseMode, promise: EventLoopPromise<Void>?)] = []
    private var release: Scheduled<Void>?

    init(latency: TimeAmount) {
        self.latency = latency
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { arrivals.append(.now()) }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        let now = NIODeadline.now()
        var releaseAt = held.last?.releaseAt ?? now
        if case .head = part {
            // An answer with no request left to pair it with (an error before one was read) counts from now.
            releaseAt = max(releaseAt, (arrivals.popFirst() ?? now) + latency)
        }
        if held.isEmpty && releaseAt <= now {
            context.write(data, promise: promise)
        } else {
            hold(part, promise, releaseAt, context)
        }
    }

    func flush(context: ChannelHandlerContext) {
        if held.isEmpty { context.flush() } else { flushHeld = true }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if held.isEmpty { context.close(mode: mode, promise: promise) } else { closesHeld.append((mode, promise)) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release?.cancel()
        release = nil
        while let part = held.popFirst() { part.promise?.fail(ChannelError.ioOnClosedChannel) }
        closesHeld.forEach { $0.promise?.fail(ChannelError.ioOnClosedChannel) }
        closesHeld = []
    }

    private func hold(_ part: HTTPResponsePart, _ promise: EventLoopPromise<Void>?, _ releaseAt: NIODeadline, _ context: ChannelHandlerContext) {
        held.append(HeldPart(part: part, promise: promise, releaseAt: releaseAt))
        if release == nil { scheduleRelease(at: releaseAt, context) }
    }

    private func scheduleRelease(at deadline: NIODeadline, _ context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        release = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.release = nil
            handler.releaseDue(context)
        }
    }

    /// Writes every held part that is due; flushes and closes when nothing is held any more.
    private func releaseDue(_ context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        while let first = held.first, first.releaseAt <= now {
            held.removeFirst()
            context.write(wrapOutboundOut(first.part), promise: first.promise)
        }
        if let next = held.first {
            context.flush()
            scheduleRelease(at: next.releaseAt, context)
            return
        }
        if flushHeld {
            flushHeld = false
            context.flush()
        }
        let closes = closesHeld
        closesHeld = []
        closes.forEach { context.close(mode: $0.mode, promise: $0.promise) }
    }
}
