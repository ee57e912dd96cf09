import Blocking
import Metrics
import Pipeline

/// The state file as ``CheckpointStore``: the checkpoint of one console and one set of filters, in a file replaced
/// atomically (see ``CheckpointFile``).
public struct CheckpointFileStore: CheckpointStore {
    let file: CheckpointFile
    /// The console the checkpoint belongs to.
    public let consoleURL: String
    /// The user's filters, `name=value`, sorted.
    public let filters: [String]
    /// Load nothing, whatever the file holds: the next save replaces it.
    public let startAfresh: Bool

    public init(path: String, consoleURL: String, filters: [String], startAfresh: Bool = false) {
        self.file = CheckpointFile(path: path)
        self.consoleURL = consoleURL
        self.filters = filters.sorted()
        self.startAfresh = startAfresh
    }

    public var location: String { file.path }

    public func load() async throws -> Checkpoint? {
        let file = self.file
        guard let contents = try await performBlockingCall({ try file.load() }), !startAfresh else { return nil }
        return try contents.checkpoint(ownedBy: consoleURL, filters: filters, location: "state file \(file.path)", otherwise: "use another --state")
    }

    public func save(_ checkpoint: Checkpoint) async throws {
        let file = self.file
        let contents = CheckpointFile.Contents.saved(checkpoint, consoleUrl: consoleURL, filters: filters)
        try await performBlockingCall { try file.save(contents) }
        Counter(label: "threatpipe_checkpoint_saves_total", dimensions: [("store", "file")]).increment()
    }
}

/// A stored checkpoint that belongs to another console or other filters.
public struct CheckpointOwnershipError: Error, Sendable, CustomStringConvertible {
    public var location: String
    public var consoleURL: String
    public var filters: [String]
    /// What else than `--reset-state` gives the run a checkpoint of its own.
    public var otherwise = "use another --state"

    public init(location: String, consoleURL: String, filters: [String], otherwise: String = "use another --state") {
        self.location = location
        self.consoleURL = consoleURL
        self.filters = filters
        self.otherwise = otherwise
    }

    public var description: String {
        "\(location) belongs to \(consoleURL) with filters [\(filters.joined(separator: ", "))]; "
            + "pass --reset-state to start afresh, or \(otherwise)"
    }
}

extension CheckpointOwnershipError: ClassifiedError {
    public var kind: FailureKind { .configuration }
}
