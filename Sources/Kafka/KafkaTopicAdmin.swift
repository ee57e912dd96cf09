import CRdKafka
import Durations

/// Topic names and topic creation: what threatpipe needs of Kafka's admin API to set up its own topics (the checkpoint
/// and state topics), as Kafka Connect sets up its config, offset and status topics.
public enum KafkaTopicAdmin {
    /// The longest topic name Kafka accepts.
    public static let maximumNameLength = 249

    /// Why `name` cannot be a Kafka topic's name (Kafka's own rule: 1…249 characters of `a-z A-Z 0-9 . _ -`, not `.`
    /// or `..`); nil when it can.
    public static func nameProblem(_ name: String) -> String? {
        if name.isEmpty { return "a topic name cannot be empty" }
        if name == "." || name == ".." { return "a topic cannot be named '\(name)'" }
        if name.utf8.count > maximumNameLength { return "a topic name has at most \(maximumNameLength) characters" }
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || ".-_".unicodeScalars.contains(scalar))
        }
        return allowed ? nil : "a topic name has only the characters a-z A-Z 0-9 . _ -"
    }

    /// A topic to create.
    public struct NewTopic: Sendable, Equatable {
        public var name: String
        public var partitions: Int
        /// nil: the cluster's `default.replication.factor`.
        public var replicationFactor: Int?
        /// Topic configurations (`cleanup.policy=compact`…).
        public var configs: [String: String]

        public init(name: String, partitions: Int, replicationFactor: Int? = nil, configs: [String: String] = [:]) {
            self.name = name
            self.partitions = partitions
            self.replicationFactor = replicationFactor
            self.configs = configs
        }
    }

    /// Creates `topic` with a CreateTopics request. A topic that exists already (another process created it first) is
    /// not an error. Blocks up to `timeout`: call it off the cooperative pool.
    public static func create(
        _ topic: NewTopic, properties: [(key: String, value: String)], timeout: Duration
    ) throws(KafkaError) {
        let (kafka, callbacks) = try KafkaClusterProbe.probeHandle(properties)
        defer { KafkaClusterProbe.destroy(kafka, callbacks) }
        var error = RDKafkaErrorText()
        guard let newTopic = rd_kafka_NewTopic_new(
            topic.name, Int32(topic.partitions), Int32(topic.replicationFactor ?? -1), &error.buffer, error.buffer.count
        ) else {
            throw KafkaError.configuration("topic \(topic.name): \(error.text)")
        }
        defer { rd_kafka_NewTopic_destroy(newTopic) }
        for (key, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
            let result = rd_kafka_NewTopic_set_config(newTopic, key, value)
            if result != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(result) }
        }
        let queue = rd_kafka_queue_new(kafka.pointer)
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(kafka.pointer, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeout.clampedMilliseconds, &error.buffer, error.buffer.count)
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeout.clampedMilliseconds, &error.buffer, error.buffer.count)
        var topics: [OpaquePointer?] = [newTopic]
        rd_kafka_CreateTopics(kafka.pointer, &topics, 1, options, queue)
        guard let event = rd_kafka_queue_poll(queue, timeout.clampedMilliseconds + 1000) else {
            throw KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT, message: "the cluster did not answer CreateTopics within \(timeout)")
                .explained(by: callbacks.watch)
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        if eventError != RD_KAFKA_RESP_ERR_NO_ERROR {
            let text = rd_kafka_event_error_string(event).map { String(cString: $0) }
            throw KafkaError(eventError, message: text).explained(by: callbacks.watch)
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else {
            throw KafkaError(RD_KAFKA_RESP_ERR__FAIL, message: "CreateTopics answered no result")
        }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count), count > 0, let first = results[0] else {
            throw KafkaError(RD_KAFKA_RESP_ERR__FAIL, message: "CreateTopics answered no topic")
        }
        let topicError = rd_kafka_topic_result_error(first)
        guard topicError != RD_KAFKA_RESP_ERR_NO_ERROR, topicError != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS else { return }
        throw KafkaError(topicError, message: rd_kafka_topic_result_error_string(first).map { String(cString: $0) })
    }
}
