import Persistence
import RawJSON
import SentinelOne
import Sinks

/// One `run`: follow the console, poll after poll, each version delivered once, the checkpoint kept in a file or in
/// a compacted Kafka topic.
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
    /// Where the checkpoint is kept.
    public var checkpointStore: CheckpointStoreKind = .file
    /// The checkpoint's id in the Kafka store and the base of the transactional id; nil: ``defaultInstanceID``.
    public var instanceID: String?
    /// At least once (any sinks), or exactly once (the Kafka sink alone, in transactions, with the Kafka store).
    public var delivery: Delivery = .atLeastOnce
    /// How many times a record whose analysis or events failed (transiently, after the retries) is enriched again on
    /// later polls, with backoff, until a complete record of the same version follows; 0 turns it off.
    public var reenrichmentAttempts = 5
    /// How large one transaction may grow (exactly once).
    public var transactionLimits = TransactionLimits()
    /// Each record's change and the threats' state; nil: neither (`--no-track-changes`).
    public var changes: ChangeSettings? = ChangeSettings()

    /// Where the checkpoint is kept.
    public enum CheckpointStoreKind: Sendable {
        /// The state file (``RunConfiguration/statePath``).
        case file
        /// A compacted topic of the cluster: librdkafka properties (with `bootstrap.servers`) and the topic.
        case kafka(CheckpointTopicSettings)
    }

    /// The delivery guarantee.
    public enum Delivery: String, Sendable, CaseIterable {
        case atLeastOnce = "at-least-once"
        case exactlyOnce = "exactly-once"
    }

    /// Who writes the Kafka stores' records, decided here alone: exactly once, the sink's transactions (with the
    /// records they cover); at least once, each store.
    public var storeWrites: StoreWrites { delivery == .exactlyOnce ? .inTheSinksTransactions : .byTheStore }

    /// Filters `run` sets itself; the user may not.
    public static let managedFilters: Set<String> = ["updatedAt__gte", "updatedAt__gt", "sortBy", "sortOrder"]

    public init(console: ConsoleConfiguration, sinks: SinksConfiguration, initialSince: RFC3339Timestamp) {
        self.console = console
        self.sinks = sinks
        self.initialSince = initialSince
    }

    /// Throws when a user's filter is one `run` sets itself, or exactly once is asked for without what it needs.
    public func check() throws {
        if let managed = console.filters.first(where: { Self.managedFilters.contains($0.name) }) {
            throw ConfigurationError(description: "filter '\(managed.name)' is set by threatpipe run (use --since for the start)")
        }
        guard delivery == .exactlyOnce else { return }
        guard sinks.sinks.count == 1, case .kafka = sinks.sinks[0] else {
            throw ConfigurationError(description: "--delivery exactly-once needs the Kafka sink as the only sink (--sink kafka): a file or stdout cannot take part in a Kafka transaction")
        }
        guard case .kafka = checkpointStore else {
            throw ConfigurationError(description: "--delivery exactly-once needs --checkpoint-store kafka: the checkpoint is committed in the same transaction as the records")
        }
    }

    /// Where the checkpoint is, for people: the state file, or the topic and key.
    public var checkpointLocation: String {
        switch checkpointStore {
        case .file: statePath
        case .kafka(let settings): "kafka:\(settings.topic)/\(resolvedInstanceID)"
        }
    }

    /// The instance id in use: the one given, or one derived from the console and the filters.
    public var resolvedInstanceID: String {
        instanceID ?? Self.defaultInstanceID(console: console.console, filters: console.filters)
    }

    /// A stable name for a console and a set of filters: the console's host and a hash of the URL and the sorted
    /// filters (`usea1.sentinelone.net-3f2a9c1b`). The same configuration always gets the same id.
    public static func defaultInstanceID(console: ConsoleURL, filters: [QueryFilter]) -> String {
        let text = ([console.base] + filters.map { "\($0.name)=\($0.value)" }.sorted()).joined(separator: "\n")
        let hash = ShardPlacement.fnv1a(text)
        let host = console.host.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "-" }
        return String(host) + "-" + String(hash, radix: 16).leftPadded(to: 8)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
}
}
