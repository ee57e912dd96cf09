import Durations
import CRdKafka

/// A metadata request to a cluster, for `threatpipe check`: which brokers answer and whether a topic exists.
public enum KafkaClusterProbe {
    /// What the cluster said.
    public struct Metadata: Sendable {
        /// `host:port` of every broker the cluster lists.
        public var brokers: [String]
        /// The topic's partition count; nil when the topic does not exist.
        public var partitions: Int?
    }

    /// Asks the cluster at `properties`' `bootstrap.servers` for its brokers and `topic`. Blocks up to `timeout`;
    /// call it off the cooperative pool. Does not create the topic.
    public static func metadata(
        topic: String,
        properties: [(key: String, value: String)],
        timeout: Duration
    ) throws(KafkaError) -> Metadata {
        let (kafka, callbacks) = try probeHandle(properties + [("allow.auto.create.topics", "false")])
        defer { destroy(kafka, callbacks) }
        let milliseconds = timeout.clampedMilliseconds
        var pointer: UnsafePointer<rd_kafka_metadata>?
        let result = rd_kafka_metadata(kafka.pointer, 1, nil, &pointer, milliseconds)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR, let pointer else { throw KafkaError(result).explained(by: callbacks.watch) }
        defer { rd_kafka_metadata_destroy(pointer) }
        let metadata = pointer.pointee
        let brokers = (0..<Int(metadata.broker_cnt)).map { index in
            let broker = metadata.brokers[index]
            return "\(String(cString: broker.host)):\(broker.port)"
        }
        let found = (0..<Int(metadata.topic_cnt)).map { metadata.topics[$0] }.first {
            String(cString: $0.topic) == topic && $0.err == RD_KAFKA_RESP_ERR_NO_ERROR
        }
        return Metadata(brokers: brokers, partitions: found.map { Int($0.partition_cnt) })
    }
}

extension KafkaClusterProbe {
    /// What a DescribeConfigs request said of one key of a topic's configuration.
    public enum ConfigurationAnswer: Sendable, Equatable {
        /// The topic has this value.
        case value(String)
        /// The cluster answered without the key: the broker's default applies.
        case notSet
        /// No answer within the timeout, or an error (the mock cluster answers no DescribeConfigs).
        case noAnswer
    }

    /// One configuration value of a topic (`cleanup.policy`…) from a DescribeConfigs request. Blocks up to
    /// `timeout`: call it off the cooperative pool.
    public static func topicConfiguration(
        topic: String,
        key: String,
        properties: [(key: String, value: String)],
        timeout: Duration
    ) throws(KafkaError) -> ConfigurationAnswer {
        let (kafka, callbacks) = try probeHandle(properties)
        defer { destroy(kafka, callbacks) }
        let queue = rd_kafka_queue_new(kafka.pointer)
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(kafka.pointer, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        var error = RDKafkaErrorText()
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeout.clampedMilliseconds, &error.buffer, error.buffer.count)
        var resource = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic)
        defer { rd_kafka_ConfigResource_destroy(resource) }
        rd_kafka_DescribeConfigs(kafka.pointer, &resource, 1, options, queue)
        guard let event = rd_kafka_queue_poll(queue, timeout.clampedMilliseconds) else { return .noAnswer }
        defer { rd_kafka_event_destroy(event) }
        guard rd_kafka_event_error(event) == RD_KAFKA_RESP_ERR_NO_ERROR,
            let result = rd_kafka_event_DescribeConfigs_result(event)
        else { return .noAnswer }
        var count = 0
        guard let resources = rd_kafka_DescribeConfigs_result_resources(result, &count), count > 0,
            let described = resources[0], rd_kafka_ConfigResource_error(described) == RD_KAFKA_RESP_ERR_NO_ERROR
        else { return .noAnswer }
        var entryCount = 0
        guard let entries = rd_kafka_ConfigResource_configs(described, &entryCount) else { return .notSet }
        for index in 0..<entryCount {
            guard let entry = entries[index], String(cString: rd_kafka_ConfigEntry_name(entry)) == key else { continue }
            return rd_kafka_ConfigEntry_value(entry).map { .value(String(cString: $0)) } ?? .notSet
        }
        return .notSet
    }

    /// Whether the cluster registers `transactionalID` (InitProducerId): what exactly-once needs of it (ACLs, a
    /// transaction coordinator, `transaction.state.log` replicas). Blocks up to `timeout`.
    public static func initTransactions(
        transactionalID: String,
        properties: [(key: String, value: String)],
        timeout: Duration
    ) throws(KafkaError) {
        let (kafka, callbacks) = try probeHandle(properties + [("transactional.id", transactionalID)])
        defer { destroy(kafka, callbacks) }
        if let failure = rd_kafka_init_transactions(kafka.pointer, timeout.clampedMilliseconds) {
            throw KafkaError(consuming: failure).explained(by: callbacks.watch)
        }
    }
}

extension KafkaClusterProbe {
    /// A producer handle for one question, with callbacks that print nothing but keep librdkafka's last complaint for
    /// the failure's message (the caller reports what failed); the caller destroys both with ``destroy(_:_:)``.
    static func probeHandle(_ properties: [(key: String, value: String)]) throws(KafkaError) -> (RDKafkaHandle, RDKafkaCallbacks) {
        let configuration = try RDKafkaConfiguration(properties)
        let callbacks = RDKafkaCallbacks()
        callbacks.install(on: configuration)
        return (try RDKafkaHandle.make(RD_KAFKA_PRODUCER, configuration), callbacks)
    }

    static func destroy(_ kafka: RDKafkaHandle, _ callbacks: RDKafkaCallbacks) {
        // The callbacks stay alive for as long as a destroy abandoned past its bound may still call them.
        if !kafka.destroy() { _ = Unmanaged.passRetained(callbacks) }
        withExtendedLifetime(callbacks) {}
    }
}
