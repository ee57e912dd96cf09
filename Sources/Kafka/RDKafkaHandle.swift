import CRdKafka
import Dispatch
import Durations
import Foundation

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

extension RDKafkaHandle {
    /// The longest a consumer's close or a handle's destroy is waited for. librdkafka gives `rd_kafka_destroy` no
    /// timeout, and a close can wait on a coordinator that does not answer: past the bound, the rest is left to a
    /// thread of its own (abandoned) and the caller goes on.
    static let releaseBound = Duration.seconds(10)

    /// Closes a consumer through `rd_kafka_consumer_close_queue`, serving its events on this thread for at most
    /// `bound`: a rebalance event (the revocation of what it holds) goes to `onRebalance`, or is answered by giving
    /// the partitions up. Returns false when the bound passed first.
    func closeConsumer(
        bound: Duration = releaseBound,
        onRebalance: ((rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) -> Void)? = nil
    ) -> Bool {
        guard let queue = rd_kafka_queue_new(pointer) else { return false }
        defer { rd_kafka_queue_destroy(queue) }
        if let error = rd_kafka_consumer_close_queue(pointer, queue) {
            rd_kafka_error_destroy(error)
            return true
        }
        let deadline = ContinuousClock.now + bound
        while rd_kafka_consumer_closed(pointer) == 0 {
            guard ContinuousClock.now < deadline else { return false }
            guard let event = rd_kafka_queue_poll(queue, 100) else { continue }
            if rd_kafka_event_type(event) == RD_KAFKA_EVENT_REBALANCE {
                let list = rd_kafka_event_topic_partition_list(event)
                if let onRebalance {
                    onRebalance(rd_kafka_event_error(event), list)
                } else if String(cString: rd_kafka_rebalance_protocol(pointer)) == "COOPERATIVE" {
                    if let failure = rd_kafka_incremental_unassign(pointer, list) { rd_kafka_error_destroy(failure) }
                } else {
                    _ = rd_kafka_assign(pointer, nil)
                }
            }
            rd_kafka_event_destroy(event)
        }
        return true
    }

    /// `rd_kafka_destroy`, waited for at most `bound`; a destroy that outlives it goes on, abandoned, on its own
    /// thread. Returns false then.
    @discardableResult
    func destroy(bound: Duration = releaseBound) -> Bool {
        let handle = self
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            rd_kafka_destroy(handle.pointer)
            done.signal()
        }
        thread.name = "threatpipe.kafka.destroy"
        thread.start()
        return done.wait(timeout: .now() + .milliseconds(Int(bound.clampedMilliseconds))) == .success
    }

    /// Closes a consumer and destroys it, each within ``releaseBound``; a close that outlives its bound leaves the
    /// handle to a thread of its own. Returns false when anything was abandoned.
    @discardableResult
    func closeAndDestroyConsumer(
        onRebalance: ((rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) -> Void)? = nil
    ) -> Bool {
        guard closeConsumer(onRebalance: onRebalance) else {
            let handle = self
            Thread { rd_kafka_destroy(handle.pointer) }.start()
            return false
        }
        return destroy()
    }
}
