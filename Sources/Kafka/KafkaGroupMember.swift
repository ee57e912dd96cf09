import CRdKafka
import Durations
import Foundation
import Synchronization

/// One member of a Kafka consumer group subscribed to one topic, used for what the group protocol does — spreading
/// the topic's partitions over the live members and moving them when one joins, leaves or dies — not to consume:
/// records it fetches are dropped.
///
/// Every change of this member's assignment is handed to `onChange` on the member's own thread, and the group goes
/// on only once it returns: a revocation's handler stops the work of those partitions *before* they move to
/// another member. With `cooperative-sticky` (the default) a rebalance revokes only the partitions that move, so
/// the other partitions' work goes on untouched; with an eager assignor every rebalance revokes everything first.
/// A member that stops heart-beating (killed) is dropped by the coordinator after the session timeout and its
/// partitions go to the others.
public final class KafkaGroupMember: Sendable {
    /// A change of this member's assignment: partitions gained, or lost (`lost`: the session expired and another
    /// member may already hold them).
    public enum Change: Sendable, Equatable {
        case assigned(Set<Int32>)
        case revoked(Set<Int32>, lost: Bool)
    }

    public let topic: String
    public let groupID: String
    private let kafka: RDKafkaHandle
    private let callbacks: Callbacks
    private let running = Atomic<Bool>(false)
    /// Once started, the member's thread releases the consumer.
    private let started = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    /// Joins nothing yet (see ``start()``). `onChange` may block until the change is handled; `onError` hears what
    /// the consumer reports (the coordinator unreachable, the topic missing), for the log.
    public init(
        topic: String,
        groupID: String,
        properties: [(key: String, value: String)],
        sessionTimeout: Duration,
        assignor: String = "cooperative-sticky",
        onChange: @escaping @Sendable (Change) -> Void,
        onError: @escaping @Sendable (KafkaError) -> Void
    ) throws(KafkaError) {
        let session = max(sessionTimeout, .seconds(1)).clampedMilliseconds
        let configuration = try RDKafkaConfiguration(properties + [
            ("group.id", groupID), ("partition.assignment.strategy", assignor),
            ("session.timeout.ms", "\(session)"), ("heartbeat.interval.ms", "\(max(100, session / 3))"),
            ("enable.auto.commit", "false"), ("enable.auto.offset.store", "false"), ("auto.offset.reset", "latest"),
            ("allow.auto.create.topics", "false"), ("isolation.level", "read_committed"),
            // Nothing fetched is used: keep the fetch queue small.
            ("queued.max.messages.kbytes", "1024"), ("fetch.max.bytes", "1048576"), ("log_level", "3"),
        ])
        let callbacks = Callbacks(onChange: onChange, onError: onError)
        rd_kafka_conf_set_opaque(configuration.handle, Unmanaged.passUnretained(callbacks).toOpaque())
        rd_kafka_conf_set_rebalance_cb(configuration.handle) { kafka, error, partitions, opaque in
            guard let kafka, let opaque else { return }
            Unmanaged<Callbacks>.fromOpaque(opaque).takeUnretainedValue().rebalance(kafka, error, partitions)
        }
        rd_kafka_conf_set_error_cb(configuration.handle) { _, code, reason, opaque in
            guard let opaque else { return }
            let error = KafkaError(rd_kafka_resp_err_t(rawValue: code), message: reason.map { String(cString: $0) })
            Unmanaged<Callbacks>.fromOpaque(opaque).takeUnretainedValue().onError(error)
        }
        self.kafka = try RDKafkaHandle.make(RD_KAFKA_CONSUMER, configuration)
        self.callbacks = callbacks
        self.topic = topic
        self.groupID = groupID
        rd_kafka_poll_set_consumer(kafka.pointer)
    }

    deinit {
        if !started.load(ordering: .acquiring) { rd_kafka_destroy(kafka.pointer) }
    }

    /// Subscribes and serves the group on a thread of its own until ``leave()``.
    public func start() throws(KafkaError) {
        let list = rd_kafka_topic_partition_list_new(1)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA)
        if let error = rd_kafka_subscribe(kafka.pointer, list).nilIfNoError { throw KafkaError(error) }
        running.store(true, ordering: .releasing)
        started.store(true, ordering: .releasing)
        let kafka = self.kafka
        let thread = Thread { [self] in
            while running.load(ordering: .acquiring) {
                guard let message = rd_kafka_consumer_poll(kafka.pointer, 100) else { continue }
                let error = message.pointee.err
                rd_kafka_message_destroy(message)
                if error != RD_KAFKA_RESP_ERR_NO_ERROR, error != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    callbacks.onError(KafkaError(error))
                }
            }
            // Leaving revokes whatever is held (the handler stops its work) before the group is told; a close or
            // destroy that outlives its bound (a coordinator that does not answer) is left to a thread of its own.
            kafka.closeAndDestroyConsumer { [callbacks] error, list in callbacks.rebalance(kafka.pointer, error, list) }
            finished.signal()
        }
        thread.name = "threatpipe-group"
        thread.start()
    }

    /// Revokes everything held (through `onChange`), leaves the group and releases the consumer. Blocks until done:
    /// call it off the cooperative pool (`performBlockingCall`).
    public func leave() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        finished.wait()
    }

    /// What the C callbacks reach through the opaque pointer.
    final class Callbacks: Sendable {
        let onChange: @Sendable (Change) -> Void
        let onError: @Sendable (KafkaError) -> Void

        init(onChange: @escaping @Sendable (Change) -> Void, onError: @escaping @Sendable (KafkaError) -> Void) {
            self.onChange = onChange
            self.onError = onError
        }

        /// Tells the handler, then makes the assignment effective (incrementally for the cooperative protocol).
        func rebalance(_ kafka: OpaquePointer, _ error: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) {
            let partitions = Set((0..<Int(list?.pointee.cnt ?? 0)).compactMap { list?.pointee.elems[$0].partition })
            let cooperative = String(cString: rd_kafka_rebalance_protocol(kafka)) == "COOPERATIVE"
            switch error {
            case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
                onChange(.assigned(partitions))
                if cooperative {
                    if let failure = rd_kafka_incremental_assign(kafka, list) { onError(KafkaError(consuming: failure)) }
                } else if let failure = rd_kafka_assign(kafka, list).nilIfNoError {
                    onError(KafkaError(failure))
                }
            case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
                onChange(.revoked(partitions, lost: rd_kafka_assignment_lost(kafka) != 0))
                if cooperative {
                    if let failure = rd_kafka_incremental_unassign(kafka, list) { onError(KafkaError(consuming: failure)) }
                } else {
                    _ = rd_kafka_assign(kafka, nil)
                }
            default:
                onError(KafkaError(error))
                _ = rd_kafka_assign(kafka, nil)
            }
        }
    }
}
