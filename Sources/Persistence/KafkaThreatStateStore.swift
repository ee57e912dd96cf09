import Blocking
import Foundation
import Kafka
import NIOConcurrencyHelpers
import Pipeline
import RawJSON

/// The threats' state kept in a compacted Kafka topic (`--state-topic`, key = threat id) as its changelog, restored
/// into a local SQLite database when the store opens — the way a Kafka Streams task restores its store — and read
/// from there.
///
/// At least once, ``save(_:)`` produces the entries (idempotent producer), waits for the cluster, then writes the
/// local copy; the session saves them before the checkpoint that covers their versions. Exactly once, the
/// transactional sink writes each entry in the transaction of its record (``record(for:)``), and ``save(_:)`` only
/// updates the local copy. In a group, a shard's entries live in its checkpoint partition and move with it.
///
/// The topic also holds one record per start of the state (key ``horizonKey``): when it began — a threat created
/// since, with no entry, is new — and, after `--reset-state`, from when entries count.
public final class KafkaThreatStateStore: ThreatStateStore {
    public let settings: KafkaCheckpointStore.Settings
    /// The partition the entries live in (a shard's checkpoint partition); nil: the key's, and a restore reads all.
    public let partition: Int32?
    public let savedByTransactions: Bool
    let startAfresh: Bool
    let local: SQLiteThreatStateStore
    private let producer = NIOLockedValueBox<KafkaProducer?>(nil)
    private let deliveryError = NIOLockedValueBox<KafkaError?>(nil)
    private let restored = NIOLockedValueBox<(records: Int, elapsed: Duration)?>(nil)

    /// The key of the records that say when the state began.
    public static let horizonKey = "threatpipe.state-horizon"

    public init(settings: KafkaCheckpointStore.Settings, partition: Int32?, savedByTransactions: Bool, startAfresh: Bool, localDirectory: String? = nil) {
        self.settings = settings
        self.partition = partition
        self.savedByTransactions = savedByTransactions
        self.startAfresh = startAfresh
        let directory = localDirectory ?? NSTemporaryDirectory()
        let name = "threatpipe-state-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).db"
        local = SQLiteThreatStateStore(path: (directory as NSString).appendingPathComponent(name), startAfresh: true, removeOnClose: true)
    }

    public var location: String { "kafka:\(settings.topic)" + (partition.map { "/\($0)" } ?? "") }

    /// What the last restore read, for the log.
    public var restoreDescription: String? {
        restored.withLockedValue { $0 }.map { "\($0.records) records in \(Int($0.elapsed / .milliseconds(1))) ms" }
    }

    public func open() async throws -> RFC3339TimestampText {
        _ = try await local.open()
        let began = ContinuousClock.now
        let (horizon, records) = try await restore()
        restored.withLockedValue { $0 = (records, ContinuousClock.now - began) }
        if let horizon, !startAfresh {
            try await local.setHorizon(horizon.text)
            return horizon.text
        }
        // A state that begins now: said in the topic, so that a restart keeps the same horizon.
        let now = RFC3339Timestamp.now
        let marker = Horizon(text: now.formatted(fractionDigits: 6), resetAt: startAfresh ? now.microseconds / 1_000_000 : 0)
        try await produce([(Self.horizonKey, marker.encoded)])
        try await local.setHorizon(marker.text)
        return marker.text
    }

    /// Reads the topic into the local database; returns the horizon record (the newest) and how many records it read.
    private func restore() async throws -> (Horizon?, Int) {
        guard !startAfresh else { return (nil, 0) }
        let settings = self.settings
        let partitions = partition.map { Set([$0]) }
        let local = self.local
        let read: (Horizon?, Int) = try await performBlockingCall {
            var horizon: Horizon?
            var batch: [ThreatStateEntry] = []
            var records = 0
            do {
                _ = try KafkaTopicReader.readToEnd(
                    topic: settings.topic, properties: settings.properties, partitions: partitions, timeout: settings.timeout
                ) { record in
                    records += 1
                    guard let key = record.key, let value = record.value else { return }
                    if key.elementsEqual(Self.horizonKey.utf8) {
                        if let read = Horizon(decoding: value), horizon.map({ read.resetAt >= $0.resetAt }) ?? true { horizon = read }
                        return
                    }
                    guard let entry = try? ThreatStateEntry(decoding: value) else { return }
                    batch.append(entry)
                    if batch.count >= 512 {
                        try local.saveBlocking(batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                }
            } catch let error as KafkaError {
                throw KafkaThreatStateStoreError(topic: settings.topic, underlying: error)
            }
            try local.saveBlocking(batch)
            return (horizon, records)
        }
        // Entries written before a reset do not count (every entry stored since was listed since).
        if let resetAt = read.0?.resetAt, resetAt > 0 { _ = try await local.forget(notSeenSince: resetAt) }
        return read
    }

    public func entry(for id: String) async throws -> ThreatStateEntry? {
        try await local.entry(for: id)
    }

    /// The record the transactional sink writes for `entry`: key and value.
    public func record(for entry: ThreatStateEntry) -> (key: String, value: [UInt8]) {
        (entry.id, entry.encoded)
    }

    public func save(_ entries: [ThreatStateEntry]) async throws {
        guard !entries.isEmpty else { return }
        if !savedByTransactions {
            try await produce(entries.map { ($0.id, $0.encoded) })
        }
        try await local.save(entries)
    }

    public func forget(notSeenSince lastSeen: Int64) async throws -> Int {
        // The local copy forgets; the topic's record stays until the threat is listed again (compaction keeps the
        // newest per key) — a restore takes it back only to forget it again.
        try await local.forget(notSeenSince: lastSeen)
    }

    public func count() async throws -> Int { try await local.count() }

    public func close() async {
        if let producer = producer.withLockedValue({ current -> KafkaProducer? in defer { current = nil }; return current }) {
            _ = await producer.close(flushTimeout: settings.timeout)
        }
        await local.close()
    }

    /// Produces `records` to the topic (the store's partition) and waits until the cluster has every one.
    private func produce(_ records: [(key: String, value: [UInt8])]) async throws {
        let producer = try ownProducer()
        deliveryError.withLockedValue { $0 = nil }
        do {
            for record in records {
                try await producer.produceWhenRoom(key: record.key, value: record.value, tag: 0, partition: partition)
            }
            if try await producer.flush(timeout: settings.timeout) > 0 {
                throw KafkaError(code: .threatpipe, name: "TIMED_OUT", message: "the threat state was not delivered within \(settings.timeout)")
            }
        } catch let error as KafkaError {
            throw KafkaThreatStateStoreError(topic: settings.topic, underlying: error)
        }
        if let error = deliveryError.withLockedValue({ $0 }) {
            throw KafkaThreatStateStoreError(topic: settings.topic, underlying: error)
        }
    }

    private func ownProducer() throws -> KafkaProducer {
        let deliveryError = self.deliveryError
        return try producer.withLockedValue { current in
            if let current { return current }
            do {
                let made = try KafkaProducer(
                    topic: settings.topic, properties: KafkaCheckpointStore.producerProperties(settings),
                    onDelivery: { report in if let error = report.error { deliveryError.withLockedValue { $0 = error } } },
                    onError: { error in if error.isFatal { deliveryError.withLockedValue { $0 = error } } }
                )
                current = made
                return made
            } catch let error as KafkaError {
                throw KafkaThreatStateStoreError(topic: settings.topic, underlying: error)
            }
        }
    }

    /// When the state began, and from when its entries count (seconds since 1970; 0: all).
    struct Horizon {
        var text: String
        var resetAt: Int64

        var encoded: [UInt8] {
            var out = Array("{\"horizon\":".utf8)
            JSONSplicer.appendString(text, to: &out)
            out += Array(",\"resetAt\":\(resetAt)}".utf8)
            return out
        }

        init(text: String, resetAt: Int64) {
            self.text = text
            self.resetAt = resetAt
        }

        init?(decoding bytes: [UInt8]) {
            guard let value = try? JSONValue.parse(bytes), let text = value["horizon"]?.stringValue,
                case .number(let reset)? = value["resetAt"], let resetAt = Int64(reset)
            else { return nil }
            self.init(text: text, resetAt: resetAt)
        }
    }
}

/// The state topic could not be read or written.
public struct KafkaThreatStateStoreError: Error, Sendable, CustomStringConvertible, ClassifiedError {
    public var topic: String
    public var underlying: KafkaError

    public var kind: FailureKind {
        switch underlying.code {
        case .unknownTopicOrPartition, .invalidConfiguration: .configuration
        default: underlying.isFenced ? .fenced : .unavailable
        }
    }

    public var description: String {
        underlying.code == .unknownTopicOrPartition
            ? "the state topic \(topic) does not exist: create it (cleanup.policy=compact, as many partitions as the checkpoint topic), or name another with --state-topic"
            : "the state topic \(topic): \(underlying)"
    }
}
