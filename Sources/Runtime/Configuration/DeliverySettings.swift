import Persistence
import Sinks

/// The Kafka sink's settings, as the runtime takes them (the sink's own configuration type stays inside).
public struct KafkaSinkSettings: Sendable {
    /// `host:port[,host:port…]`.
    public var brokers: String
    public var topic: String
    /// librdkafka properties given by the user; they override threatpipe's defaults (``defaultProperties``).
    public var properties: [(key: String, value: String)]
    /// Headers on every message.
    public var headers: [(String, String)]
    /// How long closing may wait for outstanding deliveries.
    public var flushTimeout: Duration

    public init(
        brokers: String, topic: String, properties: [(key: String, value: String)] = [], headers: [(String, String)] = [],
        flushTimeout: Duration = .seconds(30)
    ) {
        self.brokers = brokers
        self.topic = topic
        self.properties = properties
        self.headers = headers
        self.flushTimeout = flushTimeout
    }

    /// The producer properties threatpipe sets before the user's (no record lost silently; see docs/delivery.md).
    public static var defaultProperties: [(key: String, value: String)] { KafkaSinkConfiguration.defaultProperties }

    /// The sink's own configuration.
    var sinkConfiguration: KafkaSinkConfiguration {
        KafkaSinkConfiguration(brokers: brokers, topic: topic, properties: properties, headers: headers, flushTimeout: flushTimeout)
    }
}

/// When the NDJSON sink starts a new file, and what becomes of the old ones.
public struct FileRotationSettings: Sendable {
    /// A new file once the current one holds this many bytes.
    public var maximumBytes: Int?
    /// A new file once the current one is this old.
    public var maximumAge: Duration?
    /// gzip closed files.
    public var compress: Bool
    /// Keep this many closed files; nil keeps all.
    public var retain: Int?

    public init(maximumBytes: Int? = nil, maximumAge: Duration? = nil, compress: Bool = false, retain: Int? = nil) {
        self.maximumBytes = maximumBytes
        self.maximumAge = maximumAge
        self.compress = compress
        self.retain = retain
    }

    /// One file, appended to.
    public static let none = FileRotationSettings()

    var rotation: NDJSONRotation {
        NDJSONRotation(maximumBytes: maximumBytes, maximumAge: maximumAge, compress: compress, retain: retain)
    }
}

/// The Kafka checkpoint store's topic and client properties (with `bootstrap.servers`), and how its topics are set up.
public struct CheckpointTopicSettings: Sendable {
    public var properties: [(key: String, value: String)]
    public var topic: String
    /// Create the checkpoint and state topics when they are missing (`--no-create-topics` turns it off).
    public var createTopics = true
    /// A new checkpoint topic's partitions (`--checkpoint-partitions`); nil: the number of shards, at least 1.
    public var checkpointPartitions: Int?
    /// A new topic's replication factor (`--topic-replication-factor`); nil: the cluster's default.
    public var replicationFactor: Int?

    public init(properties: [(key: String, value: String)], topic: String) {
        self.properties = properties
        self.topic = topic
    }

    var storeSettings: CompactedTopic.Settings {
        CompactedTopic.Settings(properties: properties, topic: topic)
    }

    /// The store's topics as they are set up at start, for a run of `shards` shards (1 outside a group).
    func internalTopics(stateTopic: String?, shards: Int) -> InternalTopics {
        InternalTopics(
            settings: storeSettings, stateTopic: stateTopic, createMissing: createTopics,
            checkpointPartitions: checkpointPartitions ?? max(shards, 1), replicationFactor: replicationFactor
        )
    }
}

/// How large one transaction may grow (exactly once).
public struct TransactionLimits: Sendable {
    public var records: Int
    public var interval: Duration

    public init(
        records: Int = KafkaTransactionalSink.Limits.defaultRecords, interval: Duration = KafkaTransactionalSink.Limits.defaultInterval
    ) {
        self.records = records
        self.interval = interval
    }

    var sinkLimits: KafkaTransactionalSink.Limits { .init(records: records, interval: interval) }
}
