import CRdKafka
import Foundation
import Synchronization

/// The thread that serves a handle's callbacks (`rd_kafka_poll`), so that delivery reports arrive without any of
/// Swift's cooperative threads ever blocking in librdkafka.
final class RDKafkaPollLoop: Sendable {
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts polling `kafka` every 50 ms at most.
    func start(_ kafka: RDKafkaHandle, name: String) {
        let thread = Thread { [self] in
            while running.load(ordering: .acquiring) { rd_kafka_poll(kafka.pointer, 50) }
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Stops polling and waits for the thread to finish its last poll. Blocks: call it off the cooperative pool.
    func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        finished.wait()
    }
}
