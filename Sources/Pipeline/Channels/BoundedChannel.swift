import AsyncAlgorithms

/// A pipeline edge: a channel holding at most `capacity` elements whose sender suspends while it is full, so a slow
/// stage slows the stages before it instead of letting memory grow. One consumer; any number of senders.
public struct BoundedChannel<Element: Sendable>: Sendable {
    /// How many elements may wait in the channel.
    public let capacity: Int
    private let channel = AsyncChannel<Element>()

    public init(capacity: Int) {
        precondition(capacity >= 1, "a channel holds at least one element")
        self.capacity = capacity
    }

    /// Sends an element, suspending while the channel is full. Returns without sending when the task is cancelled.
    public func send(_ element: Element) async {
        await channel.send(element)
    }

    /// Ends the stream: the consumer sees the elements already sent, then the end.
    public func finish() {
        channel.finish()
    }

    /// The elements, for the one consumer.
    public var elements: AsyncBufferSequence<AsyncChannel<Element>> {
        channel.buffer(policy: .bounded(capacity))
    }
}
