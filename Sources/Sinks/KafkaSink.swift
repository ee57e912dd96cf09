import Kafka
import Logging
import Pipeline

/// Produces records to a Kafka topic through librdkafka, keyed by threat id. A record is acknowledged only when its
/// delivery report says the broker has it; a full local queue makes the sink wait (backpressure), never drop; a
/// failed delivery (after librdkafka's retries) or a fatal producer error stops the export.
public actor KafkaSink: RecordSink {
    public nonisolated let name: String
    private let configuration: KafkaSinkConfiguration
    private let logger: Logger
    private let deliveries = KafkaDeliveryState()
    private var producer: KafkaProducer?
    /// Times a write waited because librdkafka's queue was full: backpressure, seen.
    public private(set) var queueFullWaits = 0

    public init(configuration: KafkaSinkConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.name = "kafka:\(configuration.topic)"
    }

    public func open(acknowledger: SinkAcknowledger) async throws {
        let deliveries = self.deliveries
        let logger = self.logger
        producer = try KafkaProducer(
            topic: configuration.topic,
            properties: configuration.effectiveProperties,
            headers: configuration.headers,
            onDelivery: { report in
                if let error = report.error {
                    deliveries.fail(error, tag: report.tag)
                    KafkaSinkMetrics.deliveryFailures.increment()
                } else {
                    acknowledger.acknowledge(report.tag)
                    if let latency = report.latency { KafkaSinkMetrics.deliveryLatency.recordNanoseconds(latency.nanoseconds) }
                }
                deliveries.delivered()
            },
            onError: { error in
                if error.isFatal {
                    deliveries.fail(error, tag: nil)
                } else {
                    logger.warning("kafka: \(error)")
                }
            },
            onLog: { level, text in
                if level <= 4 { logger.warning("librdkafka: \(text)") } else { logger.debug("librdkafka: \(text)") }
            }
        )
    }

    public func write(_ record: EncodedRecord) async throws {
        guard let producer else { throw SinkError(path: name, message: "written before open") }
        while true {
            try throwIfFailed()
            let generation = deliveries.generation
            let result: KafkaProducer.ProduceResult
            do {
                result = try producer.produce(key: record.key, value: record.bytes, tag: record.sequence)
            } catch {
                throw SinkError(path: name, message: "cannot produce the record of threat \(record.key): \(error)")
            }
            if result == .enqueued {
                KafkaSinkMetrics.inFlight.record(producer.outstandingCount)
                return
            }
            queueFullWaits += 1
            await deliveries.waitForDelivery(after: generation)
            try Task.checkCancellation()
        }
    }

    public func close() async throws {
        guard let producer else { return }
        self.producer = nil
        let outstanding = await producer.close(flushTimeout: configuration.flushTimeout)
        try throwIfFailed()
        if outstanding > 0 {
            throw SinkError(
                path: name,
                message: "\(outstanding) records not delivered within \(configuration.flushTimeout) of closing"
            )
        }
    }

    private func throwIfFailed() throws {
        guard let failure = deliveries.failure else { return }
        let which = failure.tag.map { "record \($0) " } ?? ""
        throw SinkError(path: name, message: "\(which)not delivered: \(failure.error)")
    }
}
