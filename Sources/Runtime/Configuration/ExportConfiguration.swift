import Pipeline
import RawJSON
import SentinelOne

/// One `export`: every threat the filters match, enriched, through the sinks, then done.
public struct ExportConfiguration: Sendable {
    public var console: ConsoleConfiguration
    public var sinks: SinksConfiguration
    /// A threat whose analysis or events cannot be fetched fails the export (instead of going out with that part
    /// null and the error in `meta`).
    public var failOnEnrichmentError = false
    /// Only threats updated at or after this instant (`updatedAt__gte`).
    public var since: RFC3339Timestamp?
    /// Only threats updated before this instant (`updatedAt__lt`).
    public var until: RFC3339Timestamp?
    /// Draw the live progress line on standard error (a terminal, not shared with the stdout sink).
    public var showsProgress = false

    public init(console: ConsoleConfiguration, sinks: SinksConfiguration) {
        self.console = console
        self.sinks = sinks
    }

    /// The user's filters plus `since`/`until` as `updatedAt` bounds; a bound given both ways is an error.
    public func listFilters() throws -> [QueryFilter] {
        var filters = console.filters
        for (instant, name, option) in [(since, "updatedAt__gte", "since"), (until, "updatedAt__lt", "until")] {
            guard let instant else { continue }
            if filters.contains(where: { $0.name == name }) {
                throw ConfigurationError(description: "--filter \(name) and --\(option) say the same thing: give one")
            }
            filters.append(QueryFilter(name: name, value: instant.description))
        }
        return filters
    }
}
