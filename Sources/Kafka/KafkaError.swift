import CRdKafka

/// An error from librdkafka, with its code, name and librdkafka's own text.
public struct KafkaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `rd_kafka_resp_err_t` value.
    public var code: Int32
    /// librdkafka's name for the code, e.g. `MSG_SIZE_TOO_LARGE`.
    public var name: String
    /// librdkafka's explanation.
    public var message: String
    /// A fatal error: the producer cannot go on (e.g. an idempotence guarantee was broken).
    public var isFatal: Bool

    public init(code: Int32, name: String, message: String, isFatal: Bool = false) {
        self.code = code
        self.name = name
        self.message = message
        self.isFatal = isFatal
    }

    init(_ error: rd_kafka_resp_err_t, message: String? = nil, isFatal: Bool = false) {
        self.init(
            code: error.rawValue,
            name: String(cString: rd_kafka_err2name(error)),
            message: message ?? String(cString: rd_kafka_err2str(error)),
            isFatal: isFatal
        )
    }

    /// Takes ownership of an `rd_kafka_error_t` and destroys it.
    init(consuming error: OpaquePointer) {
        self.init(
            code: rd_kafka_error_code(error).rawValue,
            name: String(cString: rd_kafka_error_name(error)),
            message: String(cString: rd_kafka_error_string(error)),
            isFatal: rd_kafka_error_is_fatal(error) != 0
        )
        rd_kafka_error_destroy(error)
    }

    /// A configuration key or value librdkafka refused, with its own text.
    static func configuration(_ text: String) -> KafkaError {
        KafkaError(code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue, name: "INVALID_CONFIGURATION", message: text)
    }

    /// The producer was used after `close`.
    static let closed = KafkaError(
        code: RD_KAFKA_RESP_ERR__STATE.rawValue, name: "PRODUCER_CLOSED", message: "the producer is closed"
    )

    /// The local queue is full: wait for deliveries, then produce again.
    public var isQueueFull: Bool { code == RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue }

    /// Codes after which the same message can never be delivered, however often it is sent again: too large,
    /// invalid, a topic or partition that does not exist or may not be written (after librdkafka's retries). Such a
    /// record is poison: it goes to the dead-letter file, or stops the run.
    static let permanentCodes: Set<Int32> = [
        RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_MSG, RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE,
        RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_RECORD,
        RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
    ].reduce(into: []) { $0.insert($1.rawValue) }

    /// Whether sending the same message again can never succeed (see ``permanentCodes``); fatal errors are not
    /// about one message.
    public var isPermanentForMessage: Bool { !isFatal && Self.permanentCodes.contains(code) }

    public var description: String { "\(name): \(message)" }
}
