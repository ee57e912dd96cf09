import Foundation
import Kafka
import Metrics
import NIOConcurrencyHelpers
import Pipeline
import RawJSON

/// The checkpoint kept in a Kafka topic (meant to be `cleanup.policy=compact`) as ``CheckpointStore``: the record
/// whose key is the checkpoint id holds the same versioned JSON document as the state file. No volume is needed: a
/// pod that starts anywhere reads the topic to its end (`read_committed`) and takes the last value for its key.
///
/// The topic is a ``CompactedTopic``. At least once, ``save(_:)`` writes the document on it (an idempotent producer
/// of the topic's own, or a lane of the process's shared one) and returns once the cluster has it. Exactly once, the checkpoint record is written by the Kafka sink inside each transaction, with
/// the records it covers (see ``record(for:)``), and ``save(_:)`` does nothing.
public final class KafkaCheckpointStore: CheckpointStore {
    public var settings: CompactedTopic.Settings { topic.settings }
    /// The record key: the instance id (one checkpoint per instance, or per shard).
    public let checkpointID: String
    public let consoleURL: String
    public let filters: [String]
    /// The partition the checkpoint lives in (a shard's: `hash(name) mod P`), read alone and written to; nil: the
    /// partitioner chooses and a load reads every partition.
    public let partition: Int32?
    /// Load nothing, whatever the topic holds — until this process has saved a checkpoint of its own (exactly
    /// once, the checkpoint is read again whenever the sink reopens; from then on it is this run's).
    private let afresh: NIOLockedValueBox<Bool>
    /// Who writes the checkpoint: with ``StoreWrites/inTheSinksTransactions``, ``save(_:)`` writes nothing.
    public let writes: StoreWrites
    /// The topic, and the producer saves go out on (at least once): the topic's own, or a lane of `sharedProducer`.
    private let topic: CompactedTopic
    private let loadReading = NIOLockedValueBox<(records: Int, partitions: Int, elapsed: Duration)?>(nil)
    /// The read of the topic shared by the shards of one assignment, for the first load; nil afterwards.
    private let sharedRead: NIOLockedValueBox<CheckpointTopicRead?>

    /// - Parameter sharedRead: a read of the topic made once for several stores (a group's assignment), used by
    ///   the first load instead of a read of its own.
    /// - Parameter sharedProducer: the process's producer for its compacted topics
    ///   (``CompactedTopic/sharedProducer(_:)``), which the store saves on and does not close.
    public init(
        settings: CompactedTopic.Settings, checkpointID: String, consoleURL: String, filters: [String], partition: Int32? = nil,
        startAfresh: Bool = false, writes: StoreWrites = .byTheStore, sharedRead: CheckpointTopicRead? = nil,
        sharedProducer: KafkaProducerLanes? = nil
    ) {
        self.sharedRead = NIOLockedValueBox(sharedRead)
        self.topic = CompactedTopic(settings, sharedProducer: sharedProducer)
        self.partition = partition
        self.checkpointID = checkpointID
        self.consoleURL = consoleURL
        self.filters = filters.sorted()
        self.afresh = NIOLockedValueBox(startAfresh)
        self.writes = writes
    }

    public var location: String { "kafka:\(settings.topic)/\(checkpointID)" }

    public var lastLoadDescription: String? {
        loadReading.withLockedValue { $0 }.map { reading in
            "\(reading.records) records in \(reading.partitions) partitions in \(Int(reading.elapsed / .milliseconds(1))) ms"
        }
    }

    public func load() async throws -> Checkpoint? {
        loadReading.withLockedValue { $0 = (0, 0, .zero) }
        var values = try await lastValues(in: partition.map { [$0] })
        if values.isEmpty, partition != nil {
            // Not in its partition: the topic's partition count changed since it was written (a shard's partition
            // is its hash modulo the count). The newest of its records in any partition is its checkpoint.
            values = try await lastValues(in: nil)
        }
        // Later loads (the sink reopened) read afresh: this store's own saves are newer than the shared read.
        sharedRead.withLockedValue { $0 = nil }
        guard !afresh.withLockedValue({ $0 }) else { return nil }
        var newest: Checkpoint?
        for case let value? in values.values {
            let contents = try CheckpointFile.decode(Data(value), location: location)
            let checkpoint = try contents.checkpoint(
                ownedBy: consoleURL, filters: filters, location: "checkpoint \(checkpointID) in topic \(settings.topic)",
                otherwise: "use another --instance-id"
            )
            if let checkpoint, newest.map({ RFC3339Timestamp.precedes($0.updatedAt, checkpoint.updatedAt) }) ?? true { newest = checkpoint }
        }
        // No record, or a tombstone: no checkpoint yet.
        return newest
    }

    /// The last value of the checkpoint's key in each partition of `partitions` (all when nil) that has one; nil
    /// for a tombstone.
    private func lastValues(in partitions: Set<Int32>?) async throws -> [Int32: [UInt8]?] {
        let key = Array(checkpointID.utf8)
        let values: [Int32: [UInt8]?]
        let snapshot: CheckpointTopicRead.Snapshot
        if let shared = sharedRead.withLockedValue({ $0 }) {
            (values, snapshot) = try await shared.lastValues(of: key, in: partitions)
        } else {
            snapshot = try await CheckpointTopicRead.read(settings, partitions: partitions, onlyKey: key)
            values = snapshot.last[key] ?? [:]
        }
        loadReading.withLockedValue { reading in
            let before = reading ?? (0, 0, .zero)
            reading = (before.records + snapshot.records, before.partitions + snapshot.partitions, before.elapsed + snapshot.elapsed)
        }
        return values
    }

    /// The checkpoint's record: its key and the document.
    public func record(for checkpoint: Checkpoint) -> (key: String, value: [UInt8]) {
        (checkpointID, CheckpointFile.encodeCompact(.saved(checkpoint, consoleUrl: consoleURL, filters: filters)))
    }

    public func save(_ checkpoint: Checkpoint) async throws {
        // Called whenever the checkpoint moved; exactly once, the transaction that moved it has stored it already.
        afresh.withLockedValue { $0 = false }
        guard writes == .byTheStore else { return }
        let record = record(for: checkpoint)
        do throws(KafkaError) {
            try await topic.write([record], partition: partition, what: "the checkpoint")
        } catch {
            throw KafkaCheckpointStoreError(topic: settings.topic, underlying: Self.explained(error, bytes: record.value.count))
        }
        Counter(label: "threatpipe_checkpoint_saves_total", dimensions: [("store", "kafka")]).increment()
    }

    /// `error`, saying how large the checkpoint was when it is too large.
    static func explained(_ error: KafkaError, bytes: Int) -> KafkaError {
        guard error.code == .messageSizeTooLarge else { return error }
        return KafkaError(
            code: error.code, name: error.name,
            message: "the checkpoint record is \(bytes) bytes, more than the producer's message.max.bytes allows: \(error.message)"
        )
    }

    public func close() async {
        // A shared producer's lane is left (its saves were each flushed); the topic's own producer is closed.
        await topic.close()
    }
}

/// The Kafka checkpoint store could not read or write its topic.
public struct KafkaCheckpointStoreError: Error, Sendable, CustomStringConvertible, ClassifiedError {
    public var topic: String
    public var underlying: KafkaError

    public init(topic: String, underlying: KafkaError) {
        self.topic = topic
        self.underlying = underlying
    }

    /// A topic that does not exist or a refused property is configuration; a checkpoint the cluster will never take
    /// (too large for the topic or the producer) stops the run as state it cannot save (exit 65) — retrying would
    /// deliver the same versions again for ever; the rest is the store being unavailable (retried by `run`).
    public var kind: FailureKind {
        switch underlying.code {
        case .unknownTopicOrPartition, .invalidConfiguration: .configuration
        case .messageSizeTooLarge: .storage
        default: underlying.isFenced ? .fenced : .unavailable
        }
    }

    public var description: String {
        underlying.code == .unknownTopicOrPartition
            ? "the checkpoint topic \(topic) does not exist: create it (cleanup.policy=compact), or name another with --checkpoint-topic"
            : "the checkpoint topic \(topic): \(underlying)"
    }
}
