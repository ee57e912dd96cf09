import CRdKafka

/// An `rd_kafka_t` pointer, shared across threads: librdkafka's handles are thread-safe.
struct RDKafkaHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    /// Creates a handle of `type` from a configuration, which it takes over on success.
    static func make(_ type: rd_kafka_type_t, _ configuration: RDKafkaConfiguration) throws(KafkaError) -> RDKafkaHandle {
        var errorText = [CChar](repeating: 0, count: 512)
        guard let pointer = rd_kafka_new(type, configuration.take(), &errorText, errorText.count) else {
            throw KafkaError.configuration(String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return RDKafkaHandle(pointer: pointer)
    }
}
