import RawJSON
import SentinelOne

/// One `run`: follow the console, poll after poll, each version delivered once, the checkpoint kept in a file.
public struct RunConfiguration: Sendable {
    public var console: ConsoleConfiguration
    public var sinks: SinksConfiguration
    /// See ``ExportConfiguration/failOnEnrichmentError``.
    public var failOnEnrichmentError = false
    /// Time between the starts of two polls.
    public var interval: Duration = .seconds(30)
    /// The longest wait between polls after failures.
    public var maximumBackoff: Duration = .seconds(300)
    /// The state file holding the checkpoint.
    public var statePath = "threatpipe-state.json"
    /// Start afresh even if the state file belongs to other filters or another console.
    public var resetState = false
    /// Where the first poll starts when there is no checkpoint.
    public var initialSince: RFC3339Timestamp
    /// How far before the checkpoint each poll starts.
    public var overlap: Duration = .seconds(5)

    /// Filters `run` sets itself; the user may not.
    public static let managedFilters: Set<String> = ["updatedAt__gte", "updatedAt__gt", "sortBy", "sortOrder"]

    public init(console: ConsoleConfiguration, sinks: SinksConfiguration, initialSince: RFC3339Timestamp) {
        self.console = console
        self.sinks = sinks
        self.initialSince = initialSince
    }

    /// Throws when a user's filter is one `run` sets itself.
    public func checkFilters() throws {
        if let managed = console.filters.first(where: { Self.managedFilters.contains($0.name) }) {
            throw ConfigurationError(description: "filter '\(managed.name)' is set by threatpipe run (use --since for the start)")
        }
    }
}
