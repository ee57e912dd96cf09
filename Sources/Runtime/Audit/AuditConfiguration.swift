import Audit

/// `audit`: which console and threats, which window, and where the delivered records are read from.
public struct AuditConfiguration: Sendable {
    /// Where the delivered side is read.
    public enum Delivered: Sendable {
        /// NDJSON files threatpipe wrote (rotated and `.gz` ones too), in any format.
        case ndjson([String])
        /// A Kafka topic from its beginning: librdkafka properties (with `bootstrap.servers`), the topic, and
        /// whether to read committed records only.
        case kafka(properties: [(key: String, value: String)], topic: String, readCommitted: Bool)
    }

    public var console: ConsoleConfiguration
    public var window = AuditWindow()
    public var delivered: Delivered
    /// Count per site too (each listed threat's `agentRealtimeInfo.siteId` is read).
    public var bySite = false
    /// Redraw a progress line on standard error while listing.
    public var showsProgress = false
    /// The longest reading the whole topic may take.
    public var kafkaTimeout: Duration = .seconds(1800)

    public init(console: ConsoleConfiguration, delivered: Delivered) {
        self.console = console
        self.delivered = delivered
    }
}
