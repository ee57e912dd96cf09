import Kafka

/// A compacted Kafka topic threatpipe keeps its own records in — the checkpoint topic (checkpoints, the group's
/// shard list) and the state topic — as one type: where it is and how to reach it (``Settings``), the one way records
/// are written to it (``write(_:partition:what:)``: produce, flush, the timeout and the failures checked, on an
/// idempotent producer of its own or a lane of the process's shared one), the one way it is read
/// (``readToEnd(partitions:_:)``) and its producer closed. The stores on it (``KafkaCheckpointStore``,
/// ``KafkaThreatStateStore``, the group's shared reads and shard list) keep only what their records mean, and their
/// errors. How the topics are created and checked at start is ``InternalTopics``, on the same settings.
public final class CompactedTopic: Sendable {
    /// Where a compacted topic is and how to reach it.
    public struct Settings: Sendable {
        /// `bootstrap.servers` and the user's librdkafka properties (TLS, SASL…), applied as given.
        public var properties: [(key: String, value: String)]
        public var topic: String
        /// The longest a read (the whole topic) or a write may wait for the cluster.
        public var timeout: Duration = .seconds(30)

        public init(properties: [(key: String, value: String)], topic: String) {
            self.properties = properties
            self.topic = topic
        }

        /// The same cluster, properties and timeout, another topic (the state topic beside the checkpoint topic).
        public func onTopic(_ topic: String) -> Settings {
            var settings = self
            settings.topic = topic
            return settings
        }

        /// The properties of the topics' producers: message limits, then the user's, then idempotence. Equal for
        /// every topic of one cluster, so one producer serves them all (``sharedProducer(_:)``).
        public var producerProperties: [(key: String, value: String)] {
            // A checkpoint may hold 100,000 overlap entries (about 7 MB): librdkafka's default of 1 MB would refuse
            // it on every save. The sink's limit, compressed; the topic's max.message.bytes must allow it too.
            CompactedTopic.messageLimits + properties + [("enable.idempotence", "true"), ("acks", "all"), ("linger.ms", "0")]
        }
    }

    /// The producer's message limits, before the user's properties (which may change them).
    static let messageLimits: [(key: String, value: String)] = [("message.max.bytes", "\(maximumRecordBytes)"), ("compression.codec", "lz4")]

    /// The largest record a topic's producer sends (16 MiB); the checkpoint topic's `max.message.bytes` must allow
    /// it too.
    public static let maximumRecordBytes = 16 * 1024 * 1024

    public let settings: Settings
    private let producer: StoreProducer

    /// - Parameter sharedProducer: the process's producer for its compacted topics (see ``sharedProducer(_:)``):
    ///   writes go out on a lane of it, which ``close()`` leaves; nil: a producer of the topic's own, made at the
    ///   first write and closed by ``close()``.
    public init(_ settings: Settings, sharedProducer: KafkaProducerLanes? = nil) {
        self.settings = settings
        producer = StoreProducer(topic: settings.topic, properties: settings.producerProperties, shared: sharedProducer)
    }

    /// One producer for every compacted topic of a process's stores (the properties are the same for each), each
    /// writer on a lane of its own. Its owner closes it once every topic on it is closed.
    public static func sharedProducer(_ settings: Settings) throws(KafkaError) -> KafkaProducerLanes {
        try KafkaProducerLanes(topic: settings.topic, properties: settings.producerProperties)
    }

    /// Writes `records` to `partition` (nil: the key's) and returns once the cluster has every one. Throws the
    /// ``KafkaError`` of a producer that cannot be made, a full queue that does not drain, a delivery not reported
    /// within the settings' timeout (`what` names it), or a failed delivery or fatal error meanwhile.
    public func write(_ records: [(key: String, value: [UInt8])], partition: Int32?, what: String) async throws(KafkaError) {
        try await producer.deliver(records, partition: partition, timeout: settings.timeout, what: what)
    }

    /// Reads `partitions` (all when nil) from their beginning to their end, `read_committed`, calling `onRecord` for
    /// each record; returns the topic's partition count. Blocks (up to the settings' timeout): call it off the
    /// cooperative pool.
    public func readToEnd(partitions: Set<Int32>?, _ onRecord: (KafkaTopicReader.Record) throws -> Void) throws -> Int {
        try Self.readToEnd(settings, partitions: partitions, onRecord)
    }

    /// ``readToEnd(partitions:_:)`` without a topic object (a read that writes nothing).
    public static func readToEnd(
        _ settings: Settings, partitions: Set<Int32>?, _ onRecord: (KafkaTopicReader.Record) throws -> Void
    ) throws -> Int {
        try KafkaTopicReader.readToEnd(
            topic: settings.topic, properties: settings.properties, partitions: partitions, timeout: settings.timeout, onRecord: onRecord
        )
    }

    /// Closes the topic's own producer (waiting up to `flushTimeout`, by default the settings' timeout, for what it
    /// holds), or leaves its lane of the shared one.
    public func close(flushTimeout: Duration? = nil) async {
        await producer.close(flushTimeout: flushTimeout ?? settings.timeout)
    }
}
