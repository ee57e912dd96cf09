/// Exactly once: the one sink is transactional, and committing a transaction is both the acknowledgement of its
/// records and the write of the checkpoint they reach — the sink asks the pass, just before each commit, for the
/// checkpoint that holds once its records are acknowledged (``CommitCheckpointSource``), and commits it with them.
/// Records and checkpoint become visible together, or neither does.
///
/// The checkpoint is loaded each time the sink is opened, after it opened: opening fences any older producer of the
/// same transactional id and aborts what it left open, so the checkpoint read is the last one committed.
public struct TransactionalCheckpoints: CheckpointPolicy {
    public let store: any CheckpointStore
    /// What the transactional sink asks for the checkpoint of each commit.
    public let transactions: CommitCheckpointSource

    public init(store: any CheckpointStore, transactions: CommitCheckpointSource) {
        self.store = store
        self.transactions = transactions
    }

    public var loadsWhenSinksOpen: Bool { true }
    public var storesDuringPass: Bool { false }

    public func begin(_ pass: DeliveryPass) {
        transactions.use { watermark in pass.checkpoint(coveringBelow: watermark) }
    }

    public func end() {
        transactions.use(nil)
    }

    /// The transactions stored it already; the store is told it moved (a store started afresh reads the topic
    /// again from then on).
    public func store(_ checkpoint: Checkpoint) async throws {
        try await store.save(checkpoint)
    }
}
