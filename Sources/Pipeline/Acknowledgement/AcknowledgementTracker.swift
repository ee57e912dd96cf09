import NIOConcurrencyHelpers
import CoreMetrics

/// The shared, thread-safe home of an ``AcknowledgementState``: the fetcher registers records, sinks acknowledge
/// them from any thread (Kafka delivery reports, file syncs), and the pipeline reads the watermark.
public final class AcknowledgementTracker: Sendable {
    private let state: NIOLockedValueBox<AcknowledgementState>
    private let onWatermarkAdvanced: (@Sendable (UInt64) -> Void)?
    private let onRecordsDone: (@Sendable ([UInt64]) -> Void)?

    /// - Parameter onWatermarkAdvanced: told the new low watermark each time it moves (outside the lock).
    /// - Parameter onRecordsDone: told the records every sink has now acknowledged, whatever the watermark (outside
    ///   the lock, before the watermark they move).
    public init(sinkCount: Int, onWatermarkAdvanced: (@Sendable (UInt64) -> Void)? = nil, onRecordsDone: (@Sendable ([UInt64]) -> Void)? = nil) {
        state = NIOLockedValueBox(AcknowledgementState(sinkCount: sinkCount))
        self.onWatermarkAdvanced = onWatermarkAdvanced
        self.onRecordsDone = onRecordsDone
    }

    /// Registers the next record in fetch order and returns its sequence number.
    public func register() -> UInt64 {
        let (sequence, inFlight) = state.withLockedValue { ($0.register(), $0.inFlightCount) }
        PipelineMetrics.recordsInFlight.record(inFlight)
        return sequence
    }

    /// Records that sink number `sink` is done with `sequence` (see ``Acknowledgement``).
    @discardableResult
    public func acknowledge(_ sequence: UInt64, sink: Int, as outcome: Acknowledgement = .delivered) -> AcknowledgementState.Action {
        let (action, inFlight, done) = state.withLockedValue { state in
            let waited = state.isPending(sequence)
            let action = state.acknowledge(sequence, sink: sink, as: outcome)
            return (action, state.inFlightCount, waited && !state.isPending(sequence))
        }
        if done { onRecordsDone?([sequence]) }
        if case .watermarkAdvanced(let watermark) = action {
            PipelineMetrics.recordsInFlight.record(inFlight)
            onWatermarkAdvanced?(watermark)
        }
        return action
    }

    /// Records that sink number `sink` holds every one of `sequences` durably.
    public func acknowledge(_ sequences: some Sequence<UInt64>, sink: Int) {
        let tellDone = onRecordsDone != nil
        let (advanced, inFlight, done) = state.withLockedValue { state -> (UInt64?, Int, [UInt64]) in
            var advanced: UInt64?
            var done: [UInt64] = []
            for sequence in sequences {
                let waited = tellDone && state.isPending(sequence)
                if case .watermarkAdvanced(let watermark) = state.acknowledge(sequence, sink: sink) { advanced = watermark }
                if waited, !state.isPending(sequence) { done.append(sequence) }
            }
            return (advanced, state.inFlightCount, done)
        }
        if !done.isEmpty { onRecordsDone?(done) }
        if let advanced {
            PipelineMetrics.recordsInFlight.record(inFlight)
            onWatermarkAdvanced?(advanced)
        }
    }

    /// A copy of the current state.
    public var snapshot: AcknowledgementState {
        state.withLockedValue { $0 }
    }

    /// The acknowledger to hand to sink number `sink`.
    public func acknowledger(forSink sink: Int) -> SinkAcknowledger {
        SinkAcknowledger(target: .tracker(self), sink: sink)
    }
}

/// What a sink calls when records are durable at its destination.
public struct SinkAcknowledger: Sendable {
    enum Target: Sendable {
        case tracker(AcknowledgementTracker)
        case router(AcknowledgementRouter)
    }

    let target: Target
    let sink: Int

    /// Acknowledges one record: delivered, or dead-lettered.
    public func acknowledge(_ sequence: UInt64, as outcome: Acknowledgement = .delivered) {
        switch target {
        case .tracker(let tracker): tracker.acknowledge(sequence, sink: sink, as: outcome)
        case .router(let router): router.current?.acknowledge(sequence, sink: sink, as: outcome)
        }
    }

    /// Acknowledges several records.
    public func acknowledge(_ sequences: some Sequence<UInt64>) {
        switch target {
        case .tracker(let tracker): tracker.acknowledge(sequences, sink: sink)
        case .router(let router): router.current?.acknowledge(sequences, sink: sink)
        }
    }
}
