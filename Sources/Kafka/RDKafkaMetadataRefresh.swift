import Durations
import CRdKafka
import Blocking
import Foundation
import Synchronization

/// Asks the cluster, once, for the metadata of the topics the handle knows, on the blocking pool.
///
/// librdkafka 2.0.2 asks for a topic's partitions when the topic is first named only if no broker connection is up
/// yet; when one is (the producer was opened before its first record, as a sink's is), the question waits for the
/// once-a-second scan of unknown topics, and the first deliveries come up to a second late. Asking right after the
/// first message names the topic closes that gap without making a topic handle of our own.
final class RDKafkaMetadataRefresh: Sendable {
    private let requested = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts the request the first time it is called; later calls do nothing. Never blocks. Called for every
    /// message produced, so a call after the first is one plain load.
    func requestOnce(_ kafka: RDKafkaHandle, timeout: Duration = .seconds(2)) {
        guard !requested.load(ordering: .relaxed),
            !requested.exchange(true, ordering: .acquiringAndReleasing)
        else { return }
        let milliseconds = timeout.clampedMilliseconds
        BlockingCalls.submit { [self] in
            var metadata: UnsafePointer<rd_kafka_metadata>?
            // all_topics 0, no topic handle: the topics this handle knows of. Failure changes nothing: the
            // periodic scan asks again.
            if rd_kafka_metadata(kafka.pointer, 0, nil, &metadata, milliseconds) == RD_KAFKA_RESP_ERR_NO_ERROR,
                let metadata
            {
                rd_kafka_metadata_destroy(metadata)
            }
            finished.signal()
        }
    }

    /// Waits for a request under way to finish (before the handle is destroyed). Blocks: call it off the
    /// cooperative pool.
    func waitUntilFinished() {
        guard requested.load(ordering: .acquiring) else { return }
        finished.wait()
        finished.signal()
    }
}
