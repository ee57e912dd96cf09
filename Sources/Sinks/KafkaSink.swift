import Durations
import Blocking
import Kafka
import Logging
import Pipeline
import CoreMetrics

/// Produces records to a Kafka topic through librdkafka, keyed by threat id, with the record's version in a
/// `threatpipe-version-id` header. A record is acknowledged only when its delivery report says the broker has it;
/// a full local queue makes the sink wait (backpressure), never drop. A record the cluster rejects for good (too
/// large, invalid, an unknown or forbidden topic) goes to the dead-letter file when there is one — and is
/// acknowledged once that line is durable — or fails the sink with ``SinkError/isPermanent``; any other failed
/// delivery (after librdkafka's retries) or a fatal producer error fails the sink.
public actor KafkaSink: RecordSink {
    public nonisolated let name: String
    private let configuration: KafkaSinkConfiguration
    private let logger: Logger
    private let deadLetters: DeadLetterFile?
    private let deliveries = KafkaDeliveryState()
    private var producer: KafkaProducer?
    private let shared: SharedKafkaSinkProducer?
    /// This sink's lane on the shared producer.
    private var lane: KafkaProducerLanes.Lane?
    private var acknowledger: SinkAcknowledger?
    /// Times a write waited because librdkafka's queue was full: backpressure, seen.
    public private(set) var queueFullWaits = 0

    /// - Parameter shared: the producer this sink writes on, on a lane of its own, with others (a group's shards);
    ///   nil: a producer of its own.
    public init(
        configuration: KafkaSinkConfiguration, deadLetters: DeadLetterFile? = nil, shared: SharedKafkaSinkProducer? = nil,
        logger: Logger
    ) {
        self.configuration = configuration
        self.deadLetters = deadLetters
        self.shared = shared
        self.logger = logger
        self.name = "kafka:\(configuration.topic)"
    }

    public func open(acknowledger: SinkAcknowledger) async throws {
        let deliveries = self.deliveries
        let logger = self.logger
        let deadLetters = self.deadLetters
        let name = self.name
        self.acknowledger = acknowledger
        let onDelivery: @Sendable (KafkaDeliveryReport) -> Void = { report in
            defer { deliveries.delivered() }
            guard let error = report.error else {
                acknowledger.acknowledge(report.tag)
                if let latency = report.latency { KafkaSinkMetrics.deliveryLatency.recordNanoseconds(latency.saturatingNanoseconds) }
                return
            }
            KafkaSinkMetrics.deliveryFailures.increment()
            guard error.isPermanentForMessage, let deadLetters else {
                deliveries.fail(error, tag: report.tag, versionID: report.failedVersionID)
                return
            }
            let version = KafkaSink.version(report.failedVersionID)
            do {
                try deadLetters.append(
                    threatID: version.id, updatedAt: version.updatedAt, sink: name, reason: error.name,
                    error: error.message, record: report.failedValue ?? []
                )
                acknowledger.acknowledge(report.tag, as: .deadLettered)
            } catch {
                deliveries.fail(KafkaError(code: .threatpipe, name: "DEAD_LETTER_FAILED", message: "\(error)"), tag: report.tag)
            }
        }
        let onError: @Sendable (KafkaError) -> Void = { error in
            if error.isFatal {
                deliveries.fail(error, tag: nil)
            } else {
                logger.warning("kafka: \(error)")
            }
        }
        if let shared {
            // A sink opens after the one before it failed: when a fatal error ended the shared producer, every
            // shard's sink failed with it, and the first to open again makes a new one for all (what the old one
            // held was never acknowledged, and goes out again from each shard's checkpoint).
            let fatal = shared.lanes.fatalError
            if let dead = try shared.lanes.replaceIfFatal() {
                logger.warning("kafka: the shared producer met a fatal error; replaced", metadata: ["error": "\(fatal.map { "\($0)" } ?? "")"])
                _ = await dead.close(flushTimeout: .zero)
            }
            lane = shared.lanes.open(onDelivery: onDelivery, onError: onError)
            producer = shared.lanes.producer
            return
        }
        producer = try KafkaProducer(
            topic: configuration.topic,
            properties: configuration.effectiveProperties,
            headers: configuration.headers,
            onDelivery: onDelivery,
            onError: onError,
            onLog: Self.librdkafkaLog(logger)
        )
    }

    public func write(_ record: EncodedRecord) async throws {
        guard let producer else { throw SinkError(sink: name, message: "written before open or after close") }
        while true {
            try throwIfFailed()
            // On a shared producer, room is made by any lane's delivery.
            let wakeups = shared?.wakeups ?? deliveries
            let generation = wakeups.generation
            let result: KafkaProducer.ProduceResult
            do {
                let tag = lane?.tag(record.sequence) ?? record.sequence
                result = try producer.produce(key: record.key, value: record.bytes, tag: tag, versionID: record.versionID)
            } catch where error.isPermanentForMessage {
                try await setAside(record, error)
                return
            } catch {
                throw SinkError(sink: name, message: "cannot produce the record of threat \(record.key): \(error)")
            }
            if result == .enqueued {
                KafkaSinkMetrics.inFlight.record((try? producer.outstandingCount()) ?? 0)
                return
            }
            queueFullWaits += 1
            await wakeups.waitForDelivery(after: generation)
            try Task.checkCancellation()
        }
    }

    /// A record librdkafka refused at once (larger than `message.max.bytes`, say): to the dead-letter file, or a
    /// permanent failure.
    private func setAside(_ record: EncodedRecord, _ error: KafkaError) async throws {
        KafkaSinkMetrics.deliveryFailures.increment()
        guard let deadLetters else {
            throw SinkError(sink: name, message: Self.poisonMessage(record.key, record.updatedAt, error), isPermanent: true)
        }
        let name = self.name
        // The append fsyncs: off the cooperative pool.
        try await performBlockingCall {
            try deadLetters.append(
                threatID: record.key, updatedAt: record.updatedAt, sink: name, reason: error.name, error: error.message,
                record: record.bytes
            )
        }
        acknowledger?.acknowledge(record.sequence, as: .deadLettered)
    }

    /// Waits up to the flush timeout for every record to be delivered.
    public func flush() async throws {
        guard let producer else { throw SinkError(sink: name, message: "flushed before open or after close") }
        let outstanding = try await waitForDeliveries(producer)
        if outstanding > 0 {
            throw SinkError(sink: name, message: "\(outstanding) records not delivered within \(configuration.flushTimeout)\(Self.cause(producer))")
        }
    }

    public func close() async throws {
        guard let producer else { return }
        self.producer = nil
        if let shared, let lane {
            // The producer is the group's: this sink waits for its records and leaves its lane.
            self.lane = nil
            let outstanding = try? await waitForDeliveries(producer)
            shared.lanes.close(lane)
            try throwIfFailed()
            if let outstanding, outstanding > 0 {
                throw SinkError(sink: name, message: "\(outstanding) records not delivered within \(configuration.flushTimeout) of closing\(Self.cause(producer))")
            }
            return
        }
        // Wait (saying what for) first; the close then only destroys, or gives up at once if that wait did.
        let waited = try? await waitForDeliveries(producer)
        let outstanding = await producer.close(flushTimeout: waited == 0 ? configuration.flushTimeout : .zero)
        try throwIfFailed()
        if outstanding > 0 {
            throw SinkError(
                sink: name,
                message: "\(outstanding) records not delivered within \(configuration.flushTimeout) of closing\(Self.cause(producer))"
            )
        }
    }

    /// Waits up to the flush timeout for every record enqueued so far to be reported; returns how many are still
    /// outstanding. While no broker has answered it says every 5 s what it waits for and librdkafka's last complaint,
    /// rather than sitting silent for the whole timeout.
    private func waitForDeliveries(_ producer: KafkaProducer) async throws -> Int {
        let deadline = ContinuousClock.now + configuration.flushTimeout
        while true {
            let outstanding = try await producer.flush(timeout: min(deadline - ContinuousClock.now, .seconds(5)))
            try throwIfFailed()
            guard outstanding > 0, ContinuousClock.now < deadline else { return outstanding }
            if !producer.connection.reached {
                let cause = producer.connection.unreachableCause ?? "no broker has answered yet"
                let left = Int(((deadline - ContinuousClock.now) / .seconds(1)).rounded())
                logger.warning("waiting for Kafka to take \(outstanding) records, \(left) s more at most: \(cause)")
            }
        }
    }

    /// `: <cause>` while no broker was ever reached, else nothing.
    static func cause(_ producer: KafkaProducer) -> String {
        producer.connection.unreachableCause.map { ": \($0)" } ?? ""
    }

    private func throwIfFailed() throws {
        guard let failure = deliveries.failure else { return }
        if failure.error.isPermanentForMessage, let versionID = failure.versionID {
            let version = Self.version(versionID)
            throw SinkError(sink: name, message: Self.poisonMessage(version.id, version.updatedAt, failure.error), isPermanent: true)
        }
        let which = failure.tag.map { "record \($0) " } ?? ""
        throw SinkError(sink: name, message: "\(which)not delivered: \(failure.error)")
    }

    /// The one line that names a record the cluster will never take.
    private static func poisonMessage(_ threatID: String, _ updatedAt: String?, _ error: KafkaError) -> String {
        "the record of threat \(threatID) (updatedAt \(updatedAt ?? "unknown")) can never be delivered: \(error); "
            + "pass --dead-letter PATH to set such records aside and go on"
    }

    /// librdkafka's log lines: warnings and worse as warnings, the rest at debug level.
    static func librdkafkaLog(_ logger: Logger) -> @Sendable (Int32, String) -> Void {
        { level, text in
            if level <= 4 { logger.warning("librdkafka: \(text)") } else { logger.debug("librdkafka: \(text)") }
        }
    }

    /// `<threat id>:<updatedAt>` split at its first colon.
    static func version(_ versionID: String?) -> (id: String, updatedAt: String?) {
        guard let versionID else { return ("unknown", nil) }
        guard let colon = versionID.firstIndex(of: ":") else { return (versionID, nil) }
        let updatedAt = versionID[versionID.index(after: colon)...]
        return (String(versionID[..<colon]), updatedAt.isEmpty ? nil : String(updatedAt))
    }
}

/// The Kafka sink's producer shared by the sinks of a group process's shards (at least once; exactly once, each
/// shard's transactions need a producer of their own): one librdkafka producer for every shard, whatever their count.
public final class SharedKafkaSinkProducer: Sendable {
    let lanes: KafkaProducerLanes
    /// Woken by every delivery report: a sink that found the shared queue full waits on it.
    let wakeups = KafkaDeliveryState()
    let flushTimeout: Duration

    public init(configuration: KafkaSinkConfiguration, logger: Logger) throws {
        let wakeups = self.wakeups
        lanes = try KafkaProducerLanes(
            topic: configuration.topic, properties: configuration.effectiveProperties, headers: configuration.headers,
            onAnyDelivery: { wakeups.delivered() }, onLog: KafkaSink.librdkafkaLog(logger)
        )
        flushTimeout = configuration.flushTimeout
    }

    /// Closes the producer once every sink has closed its lane.
    public func close() async {
        _ = await lanes.producer.close(flushTimeout: flushTimeout)
    }
}
