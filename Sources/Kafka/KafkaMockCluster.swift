import CRdKafka

/// librdkafka's built-in mock Kafka cluster, listening on loopback: what librdkafka itself tests against. For tests
/// and for trying threatpipe without a Kafka installation.
public final class KafkaMockCluster: @unchecked Sendable {
    /// Kafka protocol error codes useful for fault injection.
    public enum ErrorCode {
        public static let notLeaderForPartition: Int32 = 6
        public static let requestTimedOut: Int32 = 7
        public static let notEnoughReplicas: Int32 = 19
        public static let messageTooLarge: Int32 = 10
        public static let producerFenced: Int32 = 90
        public static let invalidProducerIDMapping: Int32 = 49
        public static let invalidTransactionState: Int32 = 48
    }

    private let host: RDKafkaHandle
    private let cluster: OpaquePointer
    /// `host:port,…` of the mock brokers.
    public let bootstrapServers: String

    /// Starts a cluster of `brokers` brokers (ids 1…brokers).
    public init(brokers: Int = 1) throws(KafkaError) {
        let configuration = RDKafkaConfiguration()
        try configuration.set("log_level", "3")
        host = try RDKafkaHandle.make(RD_KAFKA_PRODUCER, configuration)
        guard let cluster = rd_kafka_mock_cluster_new(host.pointer, Int32(brokers)) else {
            rd_kafka_destroy(host.pointer)
            throw KafkaError(code: .threatpipe, name: "MOCK_CLUSTER", message: "the mock cluster could not be created")
        }
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(host.pointer)
    }

    /// Creates a topic.
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int) throws(KafkaError) {
        let error = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor))
        if error != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(error) }
    }

    /// Takes broker `id` down (connections refused and closed) or brings it back.
    public func setBroker(_ id: Int32, up: Bool) {
        if up {
            rd_kafka_mock_broker_set_up(cluster, id)
        } else {
            rd_kafka_mock_broker_set_down(cluster, id)
        }
    }

    /// The next produce requests fail with these error codes, one each, in order.
    public func failNextProduceRequests(with codes: [Int32]) {
        failNextRequests(apiKey: 0, with: codes)
    }

    /// The next requests of the Kafka protocol's API `apiKey` (0 Produce, 26 EndTxn…) fail with these error codes,
    /// one each, in order.
    public func failNextRequests(apiKey: Int16, with codes: [Int32]) {
        let errors = codes.map { rd_kafka_resp_err_t(rawValue: $0) }
        errors.withUnsafeBufferPointer { buffer in
            rd_kafka_mock_push_request_errors_array(cluster, apiKey, buffer.count, buffer.baseAddress)
        }
    }
}
