/// Where `run` keeps its checkpoint between runs: the port the continuous export saves through. A store belongs to
/// one console and one set of filters; `load` refuses another's checkpoint (unless told to start afresh), and
/// `save` replaces the stored checkpoint atomically.
public protocol CheckpointStore: Sendable {
    /// The stored checkpoint; nil when there is none yet. Throws when the stored state cannot be used (unreadable,
    /// corrupt, another console's or filters') — a run never silently starts over.
    func load() async throws -> Checkpoint?
    /// Replaces the stored checkpoint. (A store whose checkpoint is written inside each Kafka transaction, with the
    /// records it covers, does nothing here.)
    func save(_ checkpoint: Checkpoint) async throws
    /// Where it is, for people: a path, a topic.
    var location: String { get }
    /// Releases what the store holds (a producer); called once, when the run ends.
    func close() async
    /// What the last ``load()`` read, for the log: a store that reads a topic says how many records (a topic that is
    /// not compacted grows by one a save). Nil when there is nothing worth saying.
    var lastLoadDescription: String? { get }
}

extension CheckpointStore {
    public func close() async {}
    public var lastLoadDescription: String? { nil }
}
