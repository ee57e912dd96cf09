import SentinelOne

/// One shard of a group's work: a name, a console (URL and token) and the `GET /threats` filters it follows. Its
/// checkpoint is keyed by the name in the Kafka checkpoint store, in partition ``ShardPlacement/partition(of:partitions:)``.
public struct ShardConfiguration: Sendable {
    /// Unique in the group: `[A-Za-z0-9._-]`, 1…100 characters (it names a checkpoint, a transactional id and a
    /// metric label).
    public var name: String
    /// The shard's console, token and filters, with the run's other console settings.
    public var console: ConsoleConfiguration

    public init(name: String, console: ConsoleConfiguration) {
        self.name = name
        self.console = console
    }

    /// Throws when the name cannot name a checkpoint, or a filter is one `run` sets itself.
    public func check() throws {
        guard Self.isUsableName(name) else {
            throw ConfigurationError(description: "shard name '\(name)': use 1…100 characters of A-Z a-z 0-9 . _ -")
        }
        if let managed = console.filters.first(where: { RunConfiguration.managedFilters.contains($0.name) }) {
            throw ConfigurationError(description: "shard \(name): filter '\(managed.name)' is set by threatpipe run")
        }
    }

    /// 1…100 characters of `A-Z a-z 0-9 . _ -`: a name that can be a record key, part of a transactional id and a
    /// metric label as it is.
    public static func isUsableName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.count <= 100 && name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || ".-_".unicodeScalars.contains($0)
        }
    }
}
