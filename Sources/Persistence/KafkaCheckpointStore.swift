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
/// At least once, ``save(_:)`` produces the document with an idempotent producer of the store's own and returns once
/// the cluster has it. Exactly once, the checkpoint record is written by the Kafka sink inside each transaction, with
/// the records it covers (see ``record(for:)``), and ``save(_:)`` does nothing.
public final class KafkaCheckpointStore: CheckpointStore {
    /// Where the topic is and how to reach it.
    public struct Settings: Sendable {
        /// `bootstrap.servers` and the user's librdkafka properties (TLS, SASL…), applied as given.
        public var properties: [(key: String, value: String)]
        public var topic: String
        /// The longest a load may take (reading the whole topic) or a save may wait for the cluster.
        public var timeout: Duration = .seconds(30)

        public init(properties: [(key: String, value: String)], topic: String) {
            self.properties = properties
            self.topic = topic
        }
    }

    public let settings: Settings
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
    /// The producer saves go out on (at least once): the store's own, or a lane of `sharedProducer`.
    private let producer: StoreProducer
    private let loadReading = NIOLockedValueBox<(records: Int, partitions: Int, elapsed: Duration)?>(nil)
    /// The read of the topic shared by the shards of one assignment, for the first load; nil afterwards.
    private let sharedRead: NIOLockedValueBox<CheckpointTopicRead?>

    /// - Parameter sharedRead: a read of the topic made once for several stores (a group's assignment), used by
    ///   the first load instead of a read of its own.
    /// - Parameter sharedProducer: a producer shared by several stores (see ``sharedProducer(_:)``), which the store
    ///   saves on and does not close.
    public init(
        settings: Settings, checkpointID: String, consoleURL: String, filters: [String], partition: Int32? = nil,
        startAfresh: Bool = false, writes: StoreWrites = .byTheStore, sharedRead: CheckpointTopicRead? = nil,
        sharedProducer: KafkaProducerLanes? = nil
    ) {
        self.sharedRead = NIOLockedValueBox(sharedRead)
        self.producer = StoreProducer(topic: settings.topic, properties: Self.producerProperties(settings), shared: sharedProducer)
        self.settings = settings
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
            try await producer.deliver([record], partition: partition, timeout: settings.timeout, what: "the checkpoint")
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

    /// The producer's message limits, before the user's properties (which may change them).
    static let messageLimits: [(key: String, value: String)] = [("message.max.bytes", "\(maximumRecordBytes)"), ("compression.codec", "lz4")]

    /// The largest checkpoint record the store's producer sends (16 MiB); the topic's `max.message.bytes` must allow
    /// it too.
    public static let maximumRecordBytes = 16 * 1024 * 1024

    /// The properties of the store's producer: message limits, then the user's, then idempotence.
    public static func producerProperties(_ settings: Settings) -> [(key: String, value: String)] {
        // A checkpoint may hold 100,000 overlap entries (about 7 MB): librdkafka's default of 1 MB would refuse
        // it on every save. The sink's limit, compressed; the topic's max.message.bytes must allow it too.
        messageLimits + settings.properties + [("enable.idempotence", "true"), ("acks", "all"), ("linger.ms", "0")]
    }

    /// A producer for the stores of a group process's shards, each saving on a lane of its own.
    public static func sharedProducer(_ settings: Settings) throws -> KafkaProducerLanes {
        do {
            return try KafkaProducerLanes(topic: settings.topic, properties: producerProperties(settings))
        } catch {
            throw KafkaCheckpointStoreError(topic: settings.topic, underlying: error)
        }
    }

    public func close() async {
        // A shared producer's lane is left (its saves were each flushed); the store's own producer is closed.
        await producer.close(flushTimeout: settings.timeout)
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
        case .messageSizeTooLarge: .state
        default: underlying.isFenced ? .fenced : .unavailable
        }
    }

    public var description: String {
        underlying.code == .unknownTopicOrPartition
            ? "the checkpoint topic \(topic) does not exist: create it (cleanup.policy=compact), or name another with --checkpoint-topic"
            : "the checkpoint topic \(topic): \(underlying)"
    }
}
