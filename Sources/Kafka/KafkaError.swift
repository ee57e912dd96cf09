import CRdKafka

/// An error from librdkafka, with its code, name and librdkafka's own text.
public struct KafkaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A librdkafka error code (`rd_kafka_resp_err_t`), with names for the ones threatpipe decides on.
    public struct ErrorCode: RawRepresentable, Hashable, Sendable {
        public var rawValue: Int32

        public init(rawValue: Int32) {
            self.rawValue = rawValue
        }

        init(_ error: rd_kafka_resp_err_t) {
            self.rawValue = error.rawValue
        }

        /// A configuration key or value librdkafka refused.
        public static let invalidConfiguration = ErrorCode(RD_KAFKA_RESP_ERR__INVALID_ARG)
        /// librdkafka's local queue is full: wait for deliveries, then produce again.
        public static let queueFull = ErrorCode(RD_KAFKA_RESP_ERR__QUEUE_FULL)
        /// The producer was used after `close`.
        public static let closed = ErrorCode(RD_KAFKA_RESP_ERR__STATE)
        /// The message is larger than `message.max.bytes` (the producer's or the broker's).
        public static let messageSizeTooLarge = ErrorCode(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
        /// The topic or partition does not exist.
        public static let unknownTopicOrPartition = ErrorCode(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        /// This producer was fenced: another one started with the same `transactional.id` (librdkafka's local code).
        public static let fenced = ErrorCode(RD_KAFKA_RESP_ERR__FENCED)
        /// The broker's answer to a fenced producer.
        public static let producerFenced = ErrorCode(RD_KAFKA_RESP_ERR_PRODUCER_FENCED)
        /// The broker's answer to a producer of an older epoch (fenced, by older brokers' wording).
        public static let invalidProducerEpoch = ErrorCode(RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH)
        /// The coordinator no longer knows the producer's transactional id (it expired, or another producer's
        /// registration replaced it). librdkafka 2.0.2 treats it as abortable with an epoch bump; the Java client
        /// makes it fatal (KAFKA-18019): a producer that goes on after it may be a zombie.
        public static let invalidProducerIDMapping = ErrorCode(RD_KAFKA_RESP_ERR_INVALID_PRODUCER_ID_MAPPING)
        /// The coordinator says the transaction is in a state the request does not fit (another producer's, or
        /// one it already ended).
        public static let invalidTransactionState = ErrorCode(RD_KAFKA_RESP_ERR_INVALID_TXN_STATE)
        /// Something of threatpipe's own around librdkafka failed (the mock cluster, the dead-letter file).
        public static let threatpipe = ErrorCode(rawValue: -1)

        /// Codes after which the same message can never be delivered, however often it is sent again: too large,
        /// invalid, a topic or partition that does not exist or may not be written (after librdkafka's retries).
        static let permanentForMessage: Set<ErrorCode> = [
            .messageSizeTooLarge, .unknownTopicOrPartition,
            ErrorCode(RD_KAFKA_RESP_ERR_INVALID_MSG), ErrorCode(RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE),
            ErrorCode(RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE), ErrorCode(RD_KAFKA_RESP_ERR_INVALID_RECORD),
            ErrorCode(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED), ErrorCode(RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION),
            ErrorCode(RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC), ErrorCode(RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION),
        ]
    }

    public var code: ErrorCode
    /// librdkafka's name for the code, e.g. `MSG_SIZE_TOO_LARGE`.
    public var name: String
    /// librdkafka's explanation.
    public var message: String
    /// A fatal error: the producer cannot go on (e.g. an idempotence guarantee was broken).
    public var isFatal: Bool
    /// A transactional call failed so that the transaction must be aborted (and may then be tried again).
    public var requiresAbort: Bool
    /// The same call may simply be made again.
    public var isRetriable: Bool

    public init(code: ErrorCode, name: String, message: String, isFatal: Bool = false, requiresAbort: Bool = false, isRetriable: Bool = false) {
        self.code = code
        self.name = name
        self.message = message
        self.isFatal = isFatal
        self.requiresAbort = requiresAbort
        self.isRetriable = isRetriable
    }

    init(_ error: rd_kafka_resp_err_t, message: String? = nil, isFatal: Bool = false) {
        self.init(
            code: ErrorCode(error),
            name: String(cString: rd_kafka_err2name(error)),
            message: message ?? String(cString: rd_kafka_err2str(error)),
            isFatal: isFatal
        )
    }

    /// Takes ownership of an `rd_kafka_error_t` and destroys it.
    init(consuming error: OpaquePointer) {
        self.init(
            code: ErrorCode(rd_kafka_error_code(error)),
            name: String(cString: rd_kafka_error_name(error)),
            message: String(cString: rd_kafka_error_string(error)),
            isFatal: rd_kafka_error_is_fatal(error) != 0,
            requiresAbort: rd_kafka_error_txn_requires_abort(error) != 0,
            isRetriable: rd_kafka_error_is_retriable(error) != 0
        )
        rd_kafka_error_destroy(error)
    }

    /// A configuration key or value librdkafka refused, with its own text.
    static func configuration(_ text: String) -> KafkaError {
        KafkaError(code: .invalidConfiguration, name: "INVALID_CONFIGURATION", message: text)
    }

    /// The producer was used after `close`.
    static let closed = KafkaError(code: .closed, name: "PRODUCER_CLOSED", message: "the producer is closed")

    /// The local queue is full: wait for deliveries, then produce again.
    public var isQueueFull: Bool { code == .queueFull }

    /// Whether sending the same message again can never succeed (see `ErrorCode.permanentForMessage`); fatal
    /// errors are not about one message.
    public var isPermanentForMessage: Bool { !isFatal && ErrorCode.permanentForMessage.contains(code) }

    /// Another producer with the same `transactional.id` took over: this one must stop writing for good.
    public var isFenced: Bool { [.fenced, .producerFenced, .invalidProducerEpoch].contains(code) }

    /// A transactional producer must stop writing for good: fenced, or the coordinator no longer knows its id or its
    /// transaction (``ErrorCode/invalidProducerIDMapping``, ``ErrorCode/invalidTransactionState``). threatpipe
    /// treats all three like fencing: the process stops (exit 78) rather than write as a possible zombie.
    public var endsTransactionalProducer: Bool {
        isFenced || [.invalidProducerIDMapping, .invalidTransactionState].contains(code)
    }

    public var description: String { "\(name): \(message)" }

    /// This error with `watch`'s cause added to its message while no broker was ever reached.
    public func explained(by watch: KafkaConnectionWatch) -> KafkaError {
        guard let cause = watch.unreachableCause, !message.contains(cause) else { return self }
        var explained = self
        explained.message += " (\(cause))"
        return explained
    }
}
