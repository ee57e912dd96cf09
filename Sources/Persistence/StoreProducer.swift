import Kafka
import NIOConcurrencyHelpers

/// The idempotent producer a Kafka store (checkpoint or state topic) writes with at least once: one of its own, made
/// at the first write, or a lane of a producer the stores of a group process share. Either way a producer that a
/// fatal error ended (librdkafka's idempotence guarantee broken: `rd_kafka_fatal_error`) is replaced before the next
/// write — a dead producer kept would fail every save for the rest of the run — and what it held was never
/// acknowledged: the save that met the error failed, and is made again on the new producer.
public final class StoreProducer: Sendable {
    private struct Own: Sendable {
        var producer: KafkaProducer
        var fatal: NIOLockedValueBox<Bool>
    }

    let topic: String
    let properties: [(key: String, value: String)]
    let shared: KafkaProducerLanes?
    private let own = NIOLockedValueBox<Own?>(nil)
    private let lane = NIOLockedValueBox<KafkaProducerLanes.Lane?>(nil)
    private let failure = NIOLockedValueBox<KafkaError?>(nil)

    public init(topic: String, properties: [(key: String, value: String)], shared: KafkaProducerLanes?) {
        self.topic = topic
        self.properties = properties
        self.shared = shared
    }

    /// The producer to write with now, and the tag of the store's messages; a producer a fatal error ended is
    /// replaced (and closed) first. Throws the ``KafkaError`` of a producer that cannot be made.
    public func current() async throws -> (producer: KafkaProducer, tag: UInt64) {
        let failure = self.failure
        let onDelivery: @Sendable (KafkaDeliveryReport) -> Void = { report in
            if let error = report.error { failure.withLockedValue { $0 = error } }
        }
        if let shared {
            if let dead = try shared.replaceIfFatal() { _ = await dead.close(flushTimeout: .zero) }
            let lane = lane.withLockedValue { current in
                if let current { return current }
                let opened = shared.open(onDelivery: onDelivery, onError: { error in
                    if error.isFatal { failure.withLockedValue { $0 = error } }
                })
                current = opened
                return opened
            }
            return (shared.producer, lane.tag(0))
        }
        let (producer, dead) = try own.withLockedValue { current throws -> (KafkaProducer, KafkaProducer?) in
            if let current, !current.fatal.withLockedValue({ $0 }) { return (current.producer, nil) }
            let fatal = NIOLockedValueBox(false)
            let made = try KafkaProducer(
                topic: topic, properties: properties, onDelivery: onDelivery,
                onError: { error in
                    guard error.isFatal else { return }
                    fatal.withLockedValue { $0 = true }
                    failure.withLockedValue { $0 = error }
                }
            )
            let dead = current?.producer
            current = Own(producer: made, fatal: fatal)
            return (made, dead)
        }
        if let dead { _ = await dead.close(flushTimeout: .zero) }
        return (producer, 0)
    }

    /// Produces `records` to `partition` of the store's topic and waits until the cluster has every one: the one write
    /// path of the Kafka stores (checkpoint and state). Throws the ``KafkaError`` of a producer that cannot be made,
    /// a full queue that does not drain, a delivery not reported within `timeout` (`what` names it), or a failed
    /// delivery or fatal error meanwhile.
    func deliver(
        _ records: [(key: String, value: [UInt8])], partition: Int32?, timeout: Duration, what: String
    ) async throws(KafkaError) {
        resetFailure()
        let producer: KafkaProducer
        let tag: UInt64
        do {
            (producer, tag) = try await current()
        } catch let error as KafkaError {
            throw error
        } catch {
            throw KafkaError(code: .threatpipe, name: "PRODUCER", message: "\(error)")
        }
        for record in records {
            try await producer.produceWhenRoom(key: record.key, value: record.value, tag: tag, topic: topic, partition: partition)
        }
        if try await producer.flush(timeout: timeout) > 0 {
            throw KafkaError(code: .threatpipe, name: "TIMED_OUT", message: "\(what) was not delivered within \(timeout)")
        }
        if let error = failed { throw error }
    }

    /// Forgets the last failure: called before each save, whose messages' reports then set it again.
    func resetFailure() { failure.withLockedValue { $0 = nil } }

    /// A failed delivery, or a fatal error, since ``resetFailure()``.
    public var failed: KafkaError? { failure.withLockedValue { $0 } }

    /// Closes the store's own producer (waiting up to `flushTimeout`), or leaves its lane of the shared one.
    public func close(flushTimeout: Duration) async {
        if let lane = lane.withLockedValue({ current in defer { current = nil }; return current }) {
            shared?.close(lane)
            return
        }
        if let own = own.withLockedValue({ current -> Own? in defer { current = nil }; return current }) {
            _ = await own.producer.close(flushTimeout: flushTimeout)
        }
    }
}
