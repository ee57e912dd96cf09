/// What librdkafka said about one message: delivered (with its partition and offset) or failed for good, after
/// librdkafka's own retries.
public struct KafkaDeliveryReport: Sendable {
    /// The producer's per-message tag (threatpipe: the record's sequence number).
    public var tag: UInt64
    /// nil when the broker has the message.
    public var error: KafkaError?
    public var partition: Int32
    public var offset: Int64
    /// Time from produce to this report, as librdkafka measured it (`rd_kafka_message_latency`); nil if unknown.
    public var latency: Duration?
    /// For a failed message only: its value and its `threatpipe-version-id` header, copied out of librdkafka so
    /// that a record that can never be delivered can be set aside whole (the dead-letter file).
    public var failedValue: [UInt8]?
    public var failedVersionID: String?
}
