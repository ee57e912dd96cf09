import Synchronization

/// The shared, thread-safe home of an ``AcknowledgementState``: the fetcher registers records, sinks acknowledge
/// them from any thread (Kafka delivery reports, file syncs), and the pipeline reads the watermark.
public final class AcknowledgementTracker: Sendable {
    private let state: Mutex<AcknowledgementState>

    public init(sinkCount: Int) {
        state = Mutex(AcknowledgementState(sinkCount: sinkCount))
    }

    /// Registers the next record in fetch order and returns its sequence number.
    public func register() -> UInt64 {
        state.withLock { $0.register() }
    }

    /// Records that sink number `sink` holds `sequence` durably.
    @discardableResult
    public func acknowledge(_ sequence: UInt64, sink: Int) -> AcknowledgementState.Action {
        state.withLock { $0.acknowledge(sequence, sink: sink) }
    }

    /// Records that sink number `sink` holds every one of `sequences` durably.
    public func acknowledge(_ sequences: some Sequence<UInt64>, sink: Int) {
        state.withLock { state in
            for sequence in sequences { _ = state.acknowledge(sequence, sink: sink) }
        }
    }

    /// A copy of the current state.
    public var snapshot: AcknowledgementState {
        state.withLock { $0 }
    }

    /// The acknowledger to hand to sink number `sink`.
    public func acknowledger(forSink sink: Int) -> SinkAcknowledger {
        SinkAcknowledger(tracker: self, sink: sink)
    }
}

/// What a sink calls when records are durable at its destination.
public struct SinkAcknowledger: Sendable {
    let tracker: AcknowledgementTracker
    let sink: Int

    /// Acknowledges one record.
    public func acknowledge(_ sequence: UInt64) {
        tracker.acknowledge(sequence, sink: sink)
    }

    /// Acknowledges several records.
    public func acknowledge(_ sequences: some Sequence<UInt64>) {
        tracker.acknowledge(sequences, sink: sink)
    }
}
