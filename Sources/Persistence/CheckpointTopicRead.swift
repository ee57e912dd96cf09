import Blocking
import Kafka
import NIOConcurrencyHelpers
import Synchronization

/// One read of the checkpoint topic shared by every shard a group process starts with an assignment: the last value
/// of every key in the assigned partitions, read once by one consumer — not once per shard (a thousand shards made a
/// thousand reads, each through the blocking pool, and no shard polled for minutes). A key missing from its
/// partition (the topic's partition count changed since it was written) is looked for in one read of the whole
/// topic, made at most once for the assignment too.
///
/// A store uses it for its first load only: what it saves afterwards is newer than any snapshot.
public final class CheckpointTopicRead: Sendable {
    /// The last value of each key in each partition read (nil: a tombstone), and what the read cost.
    public struct Snapshot: Sendable {
        var last: [[UInt8]: [Int32: [UInt8]?]] = [:]
        var records = 0
        var partitions = 0
        var elapsed = Duration.zero
    }

    let settings: CompactedTopic.Settings
    /// The partitions assigned: one read serves any shard of them.
    public let assigned: Set<Int32>
    private let reads = NIOLockedValueBox<[Set<Int32>?: Task<Snapshot, any Error>]>([:])

    /// This assignment's number in the process, never reused: what the state reads of its shards are keyed by. (An
    /// object's address is no identity: a new assignment made where a released one lay got the old one's key, and its
    /// partitions were not read again.)
    public let assignmentID: UInt64

    private static let assignments = Atomic<UInt64>(0)

    public init(settings: CompactedTopic.Settings, assigned: Set<Int32>) {
        self.settings = settings
        self.assigned = assigned
        assignmentID = Self.assignments.add(1, ordering: .relaxed).newValue
    }

    /// The values of `key` in `partitions` (every partition when nil), from the read of the assigned partitions when
    /// they hold `partitions`, otherwise from the read of the whole topic; each read made once, by whoever asks first.
    func lastValues(of key: [UInt8], in partitions: Set<Int32>?) async throws -> (values: [Int32: [UInt8]?], snapshot: Snapshot) {
        let scope: Set<Int32>? = partitions.map { $0.isSubset(of: assigned) ? assigned : $0 }
        let read = reads.withLockedValue { reads in
            if let read = reads[scope] { return read }
            let settings = self.settings
            let read = Task { try await Self.read(settings, partitions: scope) }
            reads[scope] = read
            return read
        }
        let snapshot = try await read.value
        let values = (snapshot.last[key] ?? [:]).filter { partitions?.contains($0.key) ?? true }
        return (values, snapshot)
    }

    /// Reads `partitions` (all when nil) of the topic to the high watermark, keeping the values of `onlyKey` alone
    /// when given (a store's own read) or of every key (a read shared by an assignment's shards).
    static func read(_ settings: CompactedTopic.Settings, partitions: Set<Int32>?, onlyKey: [UInt8]? = nil) async throws -> Snapshot {
        try await performBlockingCall {
            var snapshot = Snapshot()
            let began = ContinuousClock.now
            do {
                let count = try CompactedTopic.readToEnd(settings, partitions: partitions) { record in
                    snapshot.records += 1
                    guard let key = record.key, onlyKey.map({ $0 == key }) ?? true else { return }
                    snapshot.last[key, default: [:]][record.partition] = .some(record.value)
                }
                snapshot.partitions = partitions?.count ?? count
            } catch let error as KafkaError {
                throw KafkaCheckpointStoreError(topic: settings.topic, underlying: error)
            }
            snapshot.elapsed = ContinuousClock.now - began
            return snapshot
        }
    }
}
