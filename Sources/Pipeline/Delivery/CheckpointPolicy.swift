/// How a ``DeliverySession`` keeps its checkpoint: when it is loaded, and how the checkpoint a pass reaches gets
/// stored. Two policies: ``AtLeastOnceCheckpoints`` and ``TransactionalCheckpoints``.
public protocol CheckpointPolicy: Sendable {
    /// Where the checkpoint is loaded from.
    var store: any CheckpointStore { get }
    /// Whether the checkpoint is loaded each time the sinks are opened, after they opened (opening a transactional
    /// producer fences older ones, so nothing can commit behind the checkpoint read) — rather than once, before.
    var loadsWhenSinksOpen: Bool { get }
    /// Whether the checkpoint is stored while a pass runs (at most once a second), not only at its end.
    var storesDuringPass: Bool { get }
    /// A pass begins delivering through the sinks.
    func begin(_ pass: DeliveryPass)
    /// The pass ended: its sinks hold nothing more of it.
    func end()
    /// Stores a checkpoint the pass reached. Throws when it cannot (the error says its own kind).
    func store(_ checkpoint: Checkpoint) async throws
}
