import CRdKafka
import Foundation
import Synchronization

/// The thread that serves a handle's callbacks (its main queue, what `rd_kafka_poll` serves), so that delivery
/// reports arrive without any of Swift's cooperative threads ever blocking in librdkafka.
final class RDKafkaPollLoop: Sendable {
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)
    private let mainQueue: RDKafkaQueueHandle

    /// Starts serving `kafka`'s main queue, waiting up to 50 ms at a time for events.
    init(_ kafka: RDKafkaHandle, name: String) {
        let mainQueue = RDKafkaQueueHandle(pointer: rd_kafka_queue_get_main(kafka.pointer))
        self.mainQueue = mainQueue
        let thread = Thread { [self] in
            while running.load(ordering: .acquiring) { rd_kafka_queue_poll_callback(mainQueue.pointer, 50) }
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Stops polling and waits for the thread to finish; the poll under way is cut short (`rd_kafka_queue_yield`),
    /// so closing a producer does not wait out a poll timeout. Blocks: call it off the cooperative pool.
    func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        rd_kafka_queue_yield(mainQueue.pointer)
        finished.wait()
        rd_kafka_queue_destroy(mainQueue.pointer)
    }
}

/// An `rd_kafka_queue_t` pointer, shared across threads (librdkafka's queues are thread-safe).
struct RDKafkaQueueHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}
