import DequeModule

/// The bookkeeping of a ``BoundedChannel``, as a value: each operation changes it and says what to resume once the
/// lock is released. Elements are handed from sender to receiver directly when a receiver waits, so an element
/// that is taken promptly costs no task switch.
struct BoundedChannelState<Element: Sendable> {
    typealias SenderContinuation = CheckedContinuation<Void, Never>
    typealias ReceiverContinuation = CheckedContinuation<Element?, Never>

    /// A sender suspended because the channel was full, with the element it sends.
    struct WaitingSender {
        var id: UInt64
        var element: Element
        var continuation: SenderContinuation
    }

    let capacity: Int
    private(set) var buffer: Deque<Element> = []
    private var waitingSenders: Deque<WaitingSender> = []
    private var waitingReceivers: Deque<(id: UInt64, continuation: ReceiverContinuation)> = []
    private(set) var isFinished = false
    private var nextID: UInt64 = 0
    /// Waits cancelled before they were queued: the cancellation handler can run first, and the wait must then not
    /// start.
    private var cancelledBeforeWaiting: Set<UInt64> = []

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Elements waiting to be received, those of suspended senders included.
    var depth: Int { buffer.count + waitingSenders.count }

    mutating func makeID() -> UInt64 {
        nextID &+= 1
        return nextID
    }

    /// The wait `id` is over; a cancellation noted for it no longer matters.
    mutating func forget(id: UInt64) {
        cancelledBeforeWaiting.remove(id)
    }

    // MARK: - Sending

    enum SendAction {
        /// Taken (buffered, or dropped after ``finish()``); the sender goes on.
        case done
        /// A receiver was waiting: resume it with the element.
        case resumeReceiver(ReceiverContinuation, Element)
        /// The channel is full: the sender waits (it has been queued with its element).
        case suspended
    }

    /// A send that may suspend: `continuation` is queued when the channel is full.
    mutating func send(_ element: Element, id: UInt64, continuation: SenderContinuation) -> SendAction {
        if cancelledBeforeWaiting.remove(id) != nil { return .done }
        let action = trySend(element)
        guard case .suspended = action else { return action }
        waitingSenders.append(WaitingSender(id: id, element: element, continuation: continuation))
        return .suspended
    }

    /// A send that does not suspend: `.suspended` means the channel is full and nothing was queued.
    mutating func trySend(_ element: Element) -> SendAction {
        if isFinished { return .done }
        if let receiver = waitingReceivers.popFirst() { return .resumeReceiver(receiver.continuation, element) }
        if buffer.count < capacity {
            buffer.append(element)
            return .done
        }
        return .suspended
    }

    /// The sender `id` was cancelled: its element is withdrawn when it still waits; returns it to resume.
    mutating func cancelSender(id: UInt64) -> SenderContinuation? {
        guard let index = waitingSenders.firstIndex(where: { $0.id == id }) else {
            cancelledBeforeWaiting.insert(id)
            return nil
        }
        return waitingSenders.remove(at: index).continuation
    }

    // MARK: - Receiving

    enum ReceiveAction {
        /// An element (or `nil`: finished and drained), and maybe a sender to resume because room was made.
        case element(Element?, resumeSender: SenderContinuation?)
        /// Nothing yet: the receiver waits (it has been queued).
        case suspended
    }

    mutating func receive(id: UInt64, continuation: ReceiverContinuation) -> ReceiveAction {
        if cancelledBeforeWaiting.remove(id) != nil { return .element(nil, resumeSender: nil) }
        let action = tryReceive()
        guard case .suspended = action else { return action }
        waitingReceivers.append((id, continuation))
        return .suspended
    }

    /// A receive that does not suspend: `.suspended` means nothing is there yet and nothing was queued.
    mutating func tryReceive() -> ReceiveAction {
        if let element = buffer.popFirst() {
            var sender: SenderContinuation?
            if let waiting = waitingSenders.popFirst() {
                buffer.append(waiting.element)
                sender = waiting.continuation
            }
            return .element(element, resumeSender: sender)
        }
        return isFinished ? .element(nil, resumeSender: nil) : .suspended
    }

    /// The receiver `id` was cancelled: it gets `nil` when it still waits.
    mutating func cancelReceiver(id: UInt64) -> ReceiverContinuation? {
        guard let index = waitingReceivers.firstIndex(where: { $0.id == id }) else {
            cancelledBeforeWaiting.insert(id)
            return nil
        }
        return waitingReceivers.remove(at: index).continuation
    }

    // MARK: - Finishing

    /// No more sends. Elements already sent — suspended senders' included, which are resumed — are still received;
    /// waiting receivers (there are none while elements are buffered) get `nil`.
    mutating func finish() -> (senders: [SenderContinuation], receivers: [ReceiverContinuation]) {
        guard !isFinished else { return ([], []) }
        isFinished = true
        var senders: [SenderContinuation] = []
        while let waiting = waitingSenders.popFirst() {
            buffer.append(waiting.element)
            senders.append(waiting.continuation)
        }
        let receivers = waitingReceivers.map(\.continuation)
        waitingReceivers.removeAll()
        return (senders, receivers)
    }
}
