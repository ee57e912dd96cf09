import NIOConcurrencyHelpers
import Metrics

/// A pipeline edge: a channel holding at most `capacity` elements whose sender suspends while it is full, so a slow
/// stage slows the stages before it instead of letting memory grow. Any number of senders and receivers. Its depth
/// is the gauge `threatpipe_queue_depth{edge}`.
///
/// An element goes straight from the sender to a waiting receiver, or into the buffer: neither side switches tasks
/// unless it has to wait (the channel is full, or empty).
public final class BoundedChannel<Element: Sendable>: Sendable {
    /// How many elements may wait in the channel.
    public let capacity: Int
    private let state: NIOLockedValueBox<BoundedChannelState<Element>>
    private let depthGauge: Gauge

    /// - Parameter name: the edge's name in metrics (`fetched`, `enriched`).
    public init(capacity: Int, name: String = "unnamed") {
        precondition(capacity >= 1, "a channel holds at least one element")
        self.capacity = capacity
        self.state = NIOLockedValueBox(BoundedChannelState(capacity: capacity))
        self.depthGauge = Gauge(label: "threatpipe_queue_depth", dimensions: [("edge", name)])
    }

    /// Sends an element, suspending while the channel is full. Returns without sending when the task is cancelled
    /// while it waits, or when the channel has been finished.
    public func send(_ element: Element) async {
        let (immediate, depth) = state.withLockedValue { state in (state.trySend(element), state.depth) }
        switch immediate {
        case .done:
            depthGauge.record(depth)
            return
        case .resumeReceiver(let receiver, let element):
            receiver.resume(returning: element)
            return
        case .suspended:
            break
        }
        let id = state.withLockedValue { $0.makeID() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let (action, depth) = state.withLockedValue { state in
                    (state.send(element, id: id, continuation: continuation), state.depth)
                }
                switch action {
                case .done:
                    depthGauge.record(depth)
                    continuation.resume()
                case .resumeReceiver(let receiver, let element):
                    receiver.resume(returning: element)
                    continuation.resume()
                case .suspended:
                    depthGauge.record(depth)
                }
            }
        } onCancel: {
            state.withLockedValue { $0.cancelSender(id: id) }?.resume()
        }
        state.withLockedValue { $0.forget(id: id) }
    }

    /// Ends the stream: receivers get the elements already sent, then the end.
    public func finish() {
        let (senders, receivers) = state.withLockedValue { $0.finish() }
        for sender in senders { sender.resume() }
        for receiver in receivers { receiver.resume(returning: nil) }
    }

    /// Receives the next element, suspending while the channel is empty; `nil` once it is finished and drained (or
    /// when the task is cancelled while it waits).
    public func receive() async -> Element? {
        let (immediate, depth) = state.withLockedValue { state in (state.tryReceive(), state.depth) }
        if case .element(let element, let sender) = immediate {
            sender?.resume()
            depthGauge.record(depth)
            return element
        }
        let id = state.withLockedValue { $0.makeID() }
        let element = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Element?, Never>) in
                let (action, depth) = state.withLockedValue { state in
                    (state.receive(id: id, continuation: continuation), state.depth)
                }
                if case .element(let element, let sender) = action {
                    sender?.resume()
                    depthGauge.record(depth)
                    continuation.resume(returning: element)
                }
            }
        } onCancel: {
            state.withLockedValue { $0.cancelReceiver(id: id) }?.resume(returning: nil)
        }
        state.withLockedValue { $0.forget(id: id) }
        return element
    }

    /// Elements waiting to be received (a waiting sender's included); for tests that need a sender to be waiting.
    var depthForTesting: Int {
        get async { state.withLockedValue { $0.depth } }
    }

    /// The elements as an asynchronous sequence (each iteration receives).
    public var elements: Elements { Elements(channel: self) }

    /// The channel's elements as an `AsyncSequence`, ending when the channel is finished and drained.
    public struct Elements: AsyncSequence, Sendable {
        public typealias Failure = Never
        let channel: BoundedChannel

        public struct AsyncIterator: AsyncIteratorProtocol {
            let channel: BoundedChannel

            public mutating func next() async -> Element? {
                await channel.receive()
            }

            public mutating func next(isolation actor: isolated (any Actor)?) async -> Element? {
                await channel.receive()
            }
        }

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(channel: channel)
        }
    }
}
