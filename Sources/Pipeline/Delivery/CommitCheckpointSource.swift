import NIOConcurrencyHelpers

/// What a transactional sink writes with the records of a transaction: the checkpoint they reach.
///
/// The session's exactly-once policy (``TransactionalCheckpoints``) points it at the pass under way; the sink asks, just before it commits, for the checkpoint
/// that holds once every record below a watermark is acknowledged — which committing makes true — and writes it in
/// the same transaction. Records and checkpoint become visible together, or neither does.
public final class CommitCheckpointSource: Sendable {
    private let preview = NIOLockedValueBox<(@Sendable (UInt64) -> Checkpoint?)?>(nil)

    public init() {}

    /// Points at a poll (`body` folds a copy of its checkpoint state), or at none.
    public func use(_ body: (@Sendable (UInt64) -> Checkpoint?)?) {
        preview.withLockedValue { $0 = body }
    }

    /// The checkpoint of the poll under way once every record below `watermark` is acknowledged; nil when no poll
    /// is under way or it would not move.
    public func checkpoint(coveringBelow watermark: UInt64) -> Checkpoint? {
        let body = preview.withLockedValue { $0 }
        return body?(watermark)
    }
}
