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
        let configuration = RDKafkaConfiguration()
        for property in properties { try configuration.set(property.key, property.value) }
        try configuration.set("allow.auto.create.topics", "false")
        // The caller reports what failed; librdkafka's own connection log lines would only repeat it.
        try configuration.set("log_level", "0")
        let kafka = try RDKafkaHandle.make(RD_KAFKA_PRODUCER, configuration)
        defer { rd_kafka_destroy(kafka.pointer) }
        let milliseconds = timeout.clampedMilliseconds
        var pointer: UnsafePointer<rd_kafka_metadata>?
        let result = rd_kafka_metadata(kafka.pointer, 1, nil, &pointer, milliseconds)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR, let pointer else { throw KafkaError(result) }
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
