import CRdKafka

/// An `rd_kafka_topic_t` pointer, shared across threads like its producer (librdkafka's handles are thread-safe).
///
/// Made with the producer, before its first broker connection is up: librdkafka then asks for the topic's
/// metadata in the first metadata request it sends. A topic first named by a `produce` after the connection is up
/// waits for librdkafka's once-a-second scan of unknown topics, so the first deliveries of a run came up to a
/// second late.
struct RDKafkaTopicHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    static func make(_ name: String, on kafka: RDKafkaHandle) throws(KafkaError) -> RDKafkaTopicHandle {
        guard let pointer = rd_kafka_topic_new(kafka.pointer, name, nil) else {
            throw KafkaError(rd_kafka_last_error(), message: "cannot use topic \(name)")
        }
        return RDKafkaTopicHandle(pointer: pointer)
    }

    func destroy() {
        rd_kafka_topic_destroy(pointer)
    }
}
