import CRdKafka
import NIOConcurrencyHelpers

/// librdkafka's fault injection for tests, over every producer alive in this process: `rd_kafka_test_fatal_error()`
/// raises a fabricated fatal error (prefixed `test_fatal_error:`) on a producer, through the same path as a real one
/// — the error callback with `_FATAL`, every outstanding message failed — so that a test proves what threatpipe
/// does after one. Nothing in threatpipe calls it; a test does, in process.
public enum KafkaFaultInjection {
    private struct Weak: @unchecked Sendable {
        weak var producer: KafkaProducer?
    }

    private static let live = NIOLockedValueBox<[ObjectIdentifier: Weak]>([:])

    static func register(_ producer: KafkaProducer) {
        live.withLockedValue { $0[ObjectIdentifier(producer)] = Weak(producer: producer) }
    }

    static func unregister(_ producer: KafkaProducer) {
        _ = live.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(producer)) }
    }

    /// Raises a fatal error (`code`, default `OUT_OF_ORDER_SEQUENCE_NUMBER`, what a broken idempotence guarantee
    /// raises) on every open producer whose properties `matching` accepts (by its topic); returns how many it raised
    /// it on.
    @discardableResult
    public static func forceFatalError(
        code: Int32 = RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER.rawValue, reason: String = "forced by a test",
        matching: (String) -> Bool = { _ in true }
    ) -> Int {
        let producers = live.withLockedValue { $0.values.compactMap(\.producer) }
        return producers.filter { matching($0.topic) }.reduce(0) { count, producer in
            count + (producer.raiseTestFatalError(code: code, reason: reason) ? 1 : 0)
        }
    }
}
