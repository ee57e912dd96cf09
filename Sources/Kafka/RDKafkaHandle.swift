import CRdKafka

/// An `rd_kafka_t` pointer, shared across threads: librdkafka's handles are thread-safe.
struct RDKafkaHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    /// Creates a handle of `type` from a configuration, which it takes over on success.
    static func make(_ type: rd_kafka_type_t, _ configuration: RDKafkaConfiguration) throws(KafkaError) -> RDKafkaHandle {
        var error = RDKafkaErrorText()
        guard let pointer = rd_kafka_new(type, configuration.take(), &error.buffer, error.buffer.count) else {
            throw KafkaError.configuration(error.text)
        }
        return RDKafkaHandle(pointer: pointer)
    }
}
