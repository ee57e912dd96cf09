/// At least once: a sink acknowledges a record once it is durable there; when every sink has, the watermark passes
/// it and its version is folded into the checkpoint, which is saved to the store at most once a second while a pass
/// runs and once at its end. A crash between an acknowledgement and the save delivers again, never loses.
///
/// A save that fails during a pass is logged and counted (`threatpipe_checkpoint_save_failures_total`) and tried
/// again a second later; one that fails at the end of a pass fails the pass with the store's error, whose kind
/// decides whether the run goes on.
public struct AtLeastOnceCheckpoints: CheckpointPolicy {
    public let store: any CheckpointStore

    public init(store: any CheckpointStore) {
        self.store = store
    }

    public var loadsWhenSinksOpen: Bool { false }
    public var storesDuringPass: Bool { true }
    public func begin(_ pass: DeliveryPass) {}
    public func end() {}

    public func store(_ checkpoint: Checkpoint) async throws {
        try await store.save(checkpoint)
    }
}
