/// Who writes a compacted-topic store's records (the checkpoint, the threats' state): the store itself on its own
/// producer or a shared lane (at least once), or the transactional sink, inside the transaction that commits the
/// records they belong to (exactly once) — then the store's own save writes nothing.
public enum StoreWrites: Sendable, Equatable {
    case byTheStore
    case inTheSinksTransactions
}
