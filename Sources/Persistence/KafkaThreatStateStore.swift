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
/// transactional sink writes each entry (``ThreatStateEntry/encoded``, keyed by the threat id) in the transaction of its record, and ``save(_:)`` only
/// updates the local copy. In a group, a shard's entries live in its checkpoint partition and move with it.
///
/// The topic also holds one record per start of the state, keyed by its owner (``horizonKey(owner:)``: the instance
/// id, or the group's key of the shard): when the state began — a threat created since, with no entry, is new — and,
/// after `--reset-state`, from when entries count. Only the owner's own record counts, the newest one (a reset
/// undoes any before it), and never one from the future (beyond ``allowedSkew``); any other horizon record is
/// ignored, counted (`threatpipe_state_records_ignored_total{reason="horizon"}`) and logged with its key. A record
/// that is not an entry of its key is skipped the same way (`reason="garbage"`): the file store does the same with a
/// row it cannot read. A tombstone deletes the threat's entry.
public final class KafkaThreatStateStore: ThreatStateStore {
    public var settings: CompactedTopic.Settings { topic.settings }
    /// Whose state this is: the checkpoint's id (the instance id, or the group's key of the shard).
    public let owner: String
    /// The partition the entries live in (a shard's checkpoint partition); nil: the key's, and a restore reads all.
    public let partition: Int32?
    /// Who writes the entries to the topic: with ``StoreWrites/inTheSinksTransactions`` a save keeps the local copy
    /// only.
    public let writes: StoreWrites
    let startAfresh: Bool
    let local: SQLiteThreatStateStore
    /// The clients a group process's shards share (one local database, one producer, one read of each partition
    /// per assignment); nil: the store's own.
    let shared: SharedThreatState?
    /// Which read of the partition this store uses when shared: the assignment's (the same one for every shard it
    /// started with), or a fresh one (a shard started again after a failure).
    let generation: UInt64
    /// The topic, and the producer entries go out on: the topic's own, or a lane of the process's shared one.
    private let topic: CompactedTopic

    /// The key every horizon record's key begins with; alone, the key an earlier release wrote (read while its
    /// owner has written none of its own).
    public static let horizonKeyPrefix = "threatpipe.state-horizon"

    /// The key of the records that say when `owner`'s state began.
    public static func horizonKey(owner: String) -> String { horizonKeyPrefix + ":" + owner }

    /// How far in the future a horizon may be (clocks differ a little): beyond, it is ignored.
    public static let allowedSkew: Duration = .seconds(300)

    public init(
        settings: CompactedTopic.Settings, owner: String, partition: Int32?, writes: StoreWrites, startAfresh: Bool,
        shared: SharedThreatState? = nil, generation: UInt64 = 0
    ) {
        self.owner = owner
        self.partition = partition
        self.writes = writes
        self.startAfresh = startAfresh
        self.shared = shared
        self.generation = generation
        topic = CompactedTopic(settings, sharedProducer: shared?.lanes)
        local = shared?.local ?? SQLiteThreatStateStore(path: Self.temporaryPath(), startAfresh: true, removeOnClose: true)
    }

    /// A new file for a local copy, in the temporary directory.
    static func temporaryPath() -> String {
        (NSTemporaryDirectory() as NSString).appendingPathComponent("threatpipe-state-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).db")
    }

    public var location: String { "kafka:\(settings.topic)" + (partition.map { "/\($0)" } ?? "") }

    public func open() async throws -> RFC3339TimestampText {
        let horizon: Horizon?
        if let shared {
            (horizon, _) = try await shared.restore(partition: partition, owner: owner, generation: generation, startAfresh: startAfresh)
        } else {
            _ = try await local.open()
            (horizon, _) = try await Self.restore(settings: settings, partition: partition, owner: owner, into: local, startAfresh: startAfresh)
        }
        if let horizon, !startAfresh { return horizon.text }
        // A state that begins now: said in the topic, so that a restart keeps the same horizon.
        let now = RFC3339Timestamp.now
        let marker = Horizon(text: now.formatted(fractionDigits: 6), resetAt: startAfresh ? now.microseconds / 1_000_000 : 0)
        try await produce([(Self.horizonKey(owner: owner), marker.encoded)])
        shared?.noteHorizon(marker, partition: partition)
        return marker.text
    }

    /// Reads the topic (`partition` alone, or all) into `local`; returns `owner`'s horizon (see the type's comment)
    /// and how many records it read.
    static func restore(
        settings: CompactedTopic.Settings, partition: Int32?, owner: String, into local: SQLiteThreatStateStore, startAfresh: Bool
    ) async throws -> (Horizon?, Int) {
        guard !startAfresh else { return (nil, 0) }
        let partitions = partition.map { Set([$0]) }
        let location = "kafka:\(settings.topic)"
        let read: (Horizon?, Int) = try await performBlockingCall {
            var horizons = HorizonChoice(owner: owner, now: .now)
            var skipped = SkippedRecords(location: location)
            var batch: [(id: String, updatedAt: String?, lastSeen: Int64, document: [UInt8])] = []
            var records = 0
            do {
                _ = try CompactedTopic.readToEnd(settings, partitions: partitions) { record in
                    records += 1
                    guard let key = record.key else { return skipped.note(reason: "garbage", key: "(no key)", offset: record.offset) }
                    if key.starts(with: Self.horizonKeyPrefix.utf8) {
                        let text = String(decoding: key, as: UTF8.self)
                        if !horizons.consider(key: text, value: record.value) { skipped.note(reason: "horizon", key: text, offset: record.offset) }
                        return
                    }
                    guard let value = record.value else {
                        // A tombstone: the threat's entry is gone (after what was read before it).
                        try local.saveBlocking(documents: batch)
                        batch.removeAll(keepingCapacity: true)
                        try local.deleteBlocking(id: String(decoding: key, as: UTF8.self))
                        return
                    }
                    // Stored as written: only its columns are read here.
                    guard let header = ThreatStateEntry.header(of: value), key.elementsEqual(header.id.utf8) else {
                        return skipped.note(reason: "garbage", key: String(decoding: key, as: UTF8.self), offset: record.offset)
                    }
                    batch.append((header.id, header.updatedAt, header.lastSeen, value))
                    if batch.count >= 512 {
                        try local.saveBlocking(documents: batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                }
            } catch let error as KafkaError {
                throw KafkaThreatStateStoreError(topic: settings.topic, underlying: error)
            }
            try local.saveBlocking(documents: batch)
            skipped.summarise()
            return (horizons.chosen, records)
        }
        // Entries written before a reset do not count (every entry stored since was listed since).
        if let resetAt = read.0?.resetAt, resetAt > 0 { _ = try await local.forget(notSeenSince: resetAt) }
        return read
    }

    public func entry(for id: String) async throws -> ThreatStateEntry? {
        try await local.entry(for: id)
    }

    public func save(_ entries: [ThreatStateEntry]) async throws {
        guard !entries.isEmpty else { return }
        if writes == .byTheStore {
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
        // Shared: the store leaves its lane (its saves were each flushed); the process closes the rest.
        await topic.close()
        if shared == nil { await local.close() }
    }

    /// Produces `records` to the topic (the store's partition) and waits until the cluster has every one.
    private func produce(_ records: [(key: String, value: [UInt8])]) async throws {
        do throws(KafkaError) {
            try await topic.write(records, partition: partition, what: "the threat state")
        } catch {
            throw KafkaThreatStateStoreError(topic: settings.topic, underlying: error)
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

/// What the shards of a group process share for their state: one local SQLite copy (not one per shard: three
/// descriptors each), the process's producer for its compacted topics, and one read of each state partition per assignment (a thousand shards must not
/// make a thousand reads). A partition is read again for a new assignment — another process may have written it
/// meanwhile — and the local copy keeps, per threat, the newest of what it held and what it read.
public final class SharedThreatState: Sendable {
    public let settings: CompactedTopic.Settings
    let local: SQLiteThreatStateStore
    let lanes: KafkaProducerLanes
    private let reads = NIOLockedValueBox<[ReadKey: Task<(KafkaThreatStateStore.Horizon?, Int), any Error>]>([:])
    private let opening = NIOLockedValueBox<Task<Void, any Error>?>(nil)
    private let generations = NIOLockedValueBox<UInt64>(1)

    struct ReadKey: Hashable {
        var partition: Int32?
        var generation: UInt64
    }

    /// - Parameter lanes: the process's producer for its compacted topics (``CompactedTopic/sharedProducer(_:)``),
    ///   which the stores write on and its owner closes.
    public init(settings: CompactedTopic.Settings, lanes: KafkaProducerLanes) {
        self.settings = settings
        self.lanes = lanes
        local = SQLiteThreatStateStore(path: KafkaThreatStateStore.temporaryPath(), startAfresh: true, removeOnClose: true)
    }

    /// A read generation no store has used: a shard started again after a failure reads its partition afresh.
    public func freshGeneration() -> UInt64 {
        generations.withLockedValue { next in
            defer { next += 1 }
            return next
        }
    }

    /// The generation of an assignment's read: the same for every shard it started, and another for every other
    /// assignment (the top bit keeps it apart from ``freshGeneration()``'s).
    public static func generation(of assignment: CheckpointTopicRead) -> UInt64 {
        assignment.assignmentID | (1 << 63)
    }

    /// Reads `partition` once for `generation`, into the shared local copy.
    func restore(partition: Int32?, owner: String, generation: UInt64, startAfresh: Bool) async throws -> (KafkaThreatStateStore.Horizon?, Int) {
        let opening = self.opening.withLockedValue { current in
            if let current { return current }
            let local = self.local
            let made = Task { _ = try await local.open() }
            current = made
            return made
        }
        try await opening.value
        let key = ReadKey(partition: partition, generation: generation)
        let read = reads.withLockedValue { reads in
            if let read = reads[key] { return read }
            let (settings, local) = (self.settings, self.local)
            let read = Task {
                try await KafkaThreatStateStore.restore(settings: settings, partition: partition, owner: owner, into: local, startAfresh: startAfresh)
            }
            reads[key] = read
            return read
        }
        return try await read.value
    }

    /// A store wrote a horizon for `partition`: later readers of the same read see it.
    func noteHorizon(_ horizon: KafkaThreatStateStore.Horizon, partition: Int32?) {
        reads.withLockedValue { reads in
            for (key, _) in reads where key.partition == partition {
                reads[key] = Task { (horizon, 0) }
            }
        }
    }

    /// Removes the local copy (every shard has stopped; the producer is its owner's to close).
    public func close() async {
        await local.close()
    }
}
