extension KafkaProducer {
    /// The producer's lifecycle: open → closing → closed. A value type behind the producer's lock; each event
    /// returns what the producer may do, so that no call ever touches a destroyed handle.
    struct StateMachine: Sendable {
        enum State: Sendable, Equatable {
            /// The handle is live: messages may be produced.
            case open
            /// `close` is flushing and destroying the handle: nothing new may start.
            case closing
            /// The handle is destroyed.
            case closed
        }

        private(set) var state = State.open

        /// Whether a call that uses the handle (produce, flush, queue length) may go ahead.
        func mayUseHandle() throws(KafkaError) {
            guard state == .open else { throw KafkaError.closed }
        }

        /// What `close` should do.
        enum CloseAction: Sendable, Equatable {
            /// Flush and destroy the handle; call ``closed()`` after.
            case flushAndDestroy
            /// Already closing or closed: nothing to do.
            case none
        }

        mutating func close() -> CloseAction {
            guard state == .open else { return .none }
            state = .closing
            return .flushAndDestroy
        }

        /// The handle was destroyed.
        mutating func closed() {
            state = .closed
        }

        /// What the producer's deinit must do: destroy a handle nobody closed.
        var mustDestroyOnDeinit: Bool { state == .open }
    }
}
