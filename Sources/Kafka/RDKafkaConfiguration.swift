import CRdKafka

/// An `rd_kafka_conf_t` being filled in; every key and value is checked by librdkafka as it is set.
final class RDKafkaConfiguration {
    /// The handle; nil once handed to `rd_kafka_new`, which takes it over.
    private(set) var handle: OpaquePointer?

    init() {
        handle = rd_kafka_conf_new()
    }

    /// A configuration with `properties` set in order (later ones win).
    convenience init(_ properties: [(key: String, value: String)]) throws(KafkaError) {
        self.init()
        for property in properties { try set(property.key, property.value) }
    }

    deinit {
        if let handle { rd_kafka_conf_destroy(handle) }
    }

    /// Sets one property; librdkafka's error text on an unknown key or an invalid value.
    func set(_ key: String, _ value: String) throws(KafkaError) {
        var error = RDKafkaErrorText()
        let result = rd_kafka_conf_set(handle, key, value, &error.buffer, error.buffer.count)
        guard result == RD_KAFKA_CONF_OK else { throw KafkaError.configuration(error.text) }
    }

    /// Gives the handle to `rd_kafka_new` (which owns it from then on when it succeeds).
    func take() -> OpaquePointer? {
        defer { handle = nil }
        return handle
    }
}
