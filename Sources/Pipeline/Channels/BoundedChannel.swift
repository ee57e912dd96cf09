import AsyncAlgorithms
import Metrics
import Synchronization

/// A pipeline edge: a channel holding at most `capacity` elements whose sender suspends while it is full, so a slow
/// stage slows the stages before it instead of letting memory grow. One consumer; any number of senders. Its depth
/// is the gauge `threatpipe_queue_depth{edge}`.
public struct BoundedChannel<Element: Sendable>: Sendable {
    /// How many elements may wait in the channel.
    public let capacity: Int
    private let channel = AsyncChannel<Element>()
    private let depth: Depth

    /// - Parameter name: the edge's name in metrics (`fetched`, `enriched`).
    public init(capacity: Int, name: String = "unnamed") {
        precondition(capacity >= 1, "a channel holds at least one element")
        self.capacity = capacity
        self.depth = Depth(gauge: Gauge(label: "threatpipe_queue_depth", dimensions: [("edge", name)]))
    }

    /// Sends an element, suspending while the channel is full. Returns without sending when the task is cancelled.
    public func send(_ element: Element) async {
        await channel.send(element)
        depth.add(1)
    }

    /// Ends the stream: the consumer sees the elements already sent, then the end.
    public func finish() {
        channel.finish()
    }

    /// The elements, for the one consumer.
    public var elements: AsyncMapSequence<AsyncBufferSequence<AsyncChannel<Element>>, Element> {
        let depth = self.depth
        return channel.buffer(policy: .bounded(capacity)).map { element in
            depth.add(-1)
            return element
        }
    }

    /// Elements sent and not yet taken by the consumer.
    private final class Depth: Sendable {
        private let count = Atomic<Int>(0)
        private let gauge: Gauge

        init(gauge: Gauge) { self.gauge = gauge }

        func add(_ delta: Int) {
            let value = count.add(delta, ordering: .relaxed).newValue
            gauge.record(max(0, value))
        }
    }
}
