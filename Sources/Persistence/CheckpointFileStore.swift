import Pipeline
import RawJSON

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

    public func load() throws -> Checkpoint? {
        guard let contents = try file.load(), !startAfresh else { return nil }
        guard contents.consoleUrl == consoleURL, contents.filters == filters else {
            throw CheckpointOwnershipError(
                location: file.path, consoleURL: contents.consoleUrl, filters: contents.filters
            )
        }
        return contents.checkpoint
    }

    public func save(_ checkpoint: Checkpoint) throws {
        try file.save(.init(
            consoleUrl: consoleURL, filters: filters, checkpoint: checkpoint,
            savedAt: RFC3339Timestamp.now.formatted(fractionDigits: 3)
        ))
    }
}

/// A stored checkpoint that belongs to another console or other filters.
public struct CheckpointOwnershipError: Error, Sendable, CustomStringConvertible {
    public var location: String
    public var consoleURL: String
    public var filters: [String]

    public var description: String {
        "state file \(location) belongs to \(consoleURL) with filters [\(filters.joined(separator: ", "))]; "
            + "pass --reset-state to start afresh, or use another --state"
    }
}

extension CheckpointOwnershipError: ClassifiedError {
    public var kind: FailureKind { .configuration }
}
