import NIOConcurrencyHelpers

/// What one pass delivers through, handed to it by its ``DeliverySession``: the session's open sinks, the pass's
/// acknowledgement tracker, and — when the session keeps a checkpoint — the pass's checkpoint state, which the
/// tracker's low watermark moves as every sink acknowledges.
///
/// The path of a record: the fetcher numbers it (``fetched(_:)`` notes its version), the writer hands it to every
/// sink, each sink acknowledges it through the tracker once it is durable, and when the watermark passes it its
/// version is folded into the checkpoint — which the session's policy then stores.
public struct DeliveryPass: Sendable {
    /// The sinks, open; the pass writes to them and, at the end of its input, makes them durable.
    public let sinks: [any RecordSink]
    /// Whether the end of the pass's input closes the sinks (they live for this pass only, `export`) rather than
    /// flushes them (they serve the next pass, `run`): a flush may rotate an NDJSON file by size or age, which an
    /// export's last file must not be left empty by.
    public let closesSinksAtEnd: Bool
    /// Where the sinks' acknowledgements of this pass go.
    public let tracker: AcknowledgementTracker
    /// The pass's checkpoint state; nil when the session keeps no checkpoint (`export`).
    let covered: NIOLockedValueBox<CheckpointProgress>?
    /// The session's change ledger, when it keeps the threats' state.
    public let changes: ChangeLedger?

    init(
        sinks: [any RecordSink], closesSinksAtEnd: Bool, tracker: AcknowledgementTracker, covered: NIOLockedValueBox<CheckpointProgress>?,
        changes: ChangeLedger? = nil
    ) {
        self.changes = changes
        self.sinks = sinks
        self.closesSinksAtEnd = closesSinksAtEnd
        self.tracker = tracker
        self.covered = covered
    }

    /// A threat numbered by the fetcher: its version waits for the watermark to pass it.
    func fetched(_ threat: ListedThreat) {
        covered?.withLockedValue {
            $0.recordFetched(sequence: threat.sequence, id: threat.id, updatedAt: threat.updatedAt, reenrichment: threat.reenrichmentAttempt != nil)
        }
    }

    /// The record numbered `sequence` is delivered with a part that failed for a transient reason: its version is
    /// enriched again once the checkpoint covers it.
    public func markIncomplete(sequence: UInt64) {
        covered?.withLockedValue { $0.markIncomplete(sequence: sequence) }
    }

    /// The checkpoint the pass has reached: every version it covers is acknowledged by every sink.
    public var checkpoint: Checkpoint? { covered?.withLockedValue { $0.checkpoint } }

    /// The checkpoint that holds once every record below `watermark` is acknowledged, without moving it: what a
    /// transaction commits with the records that make it true.
    func checkpoint(coveringBelow watermark: UInt64) -> Checkpoint? {
        covered?.withLockedValue { current in
            var preview = current
            _ = preview.fold(toWatermark: watermark)
            return preview.checkpoint
        }
    }
}
