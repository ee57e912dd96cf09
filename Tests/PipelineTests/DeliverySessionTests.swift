import Logging
import NIOConcurrencyHelpers
import Testing

@testable import Pipeline

/// The delivery session's two checkpoint policies, driven record by record: what reaches the store is exactly what
/// every sink acknowledged, whatever the order of the acknowledgements, and a failure leaves the checkpoint where
/// the last stored one was.
@Suite struct DeliverySessionTests {
    static let logger = Logger(label: "test")

    /// Three versions a second apart, registered and noted as the fetcher does.
    static func fetch(_ count: Int, into pass: DeliveryPass) -> [UInt64] {
        (0..<count).map { index in
            let sequence = pass.tracker.register()
            pass.fetched(ListedThreat(sequence: sequence, id: "t\(index)", updatedAt: Self.time(index), json: []))
            return sequence
        }
    }

    static func time(_ index: Int) -> String { "2026-01-01T00:00:0\(index)Z" }

    /// Two sinks acknowledge three records in opposite orders: the checkpoint moves only past records both hold,
    /// and the store receives the last one at the end of the pass.
    @Test func acknowledgementsOutOfOrderMoveTheCheckpointOnlyPastWhatEverySinkHolds() async throws {
        let store = MemoryCheckpointStore()
        let session = DeliverySession(
            sinks: { [NullSink(name: "a"), NullSink(name: "b")] }, checkpoints: AtLeastOnceCheckpoints(store: store),
            lifetime: .manyPasses, logger: Self.logger
        )
        #expect(try await session.prepare() == nil)
        let outcome = await session.deliver { pass in
            let sequences = Self.fetch(3, into: pass)
            for sequence in sequences.reversed() { pass.tracker.acknowledge(sequence, sink: 0) }
            #expect(pass.checkpoint == nil, "sink b holds nothing yet")
            pass.tracker.acknowledge(sequences[1], sink: 1)
            pass.tracker.acknowledge(sequences[2], sink: 1)
            #expect(pass.checkpoint == nil, "record 0 is not yet held by sink b")
            pass.tracker.acknowledge(sequences[0], sink: 1)
            #expect(pass.checkpoint?.updatedAt == Self.time(2))
            return ExportSummary()
        }
        _ = try outcome.get()
        #expect(await store.saved.map(\.updatedAt) == [Self.time(2)])
        #expect(await session.checkpoint?.updatedAt == Self.time(2))
        await session.close()
    }

    /// A dead-lettered record is done: it moves the checkpoint like a delivered one, and is counted apart.
    @Test func aDeadLetteredRecordMovesTheCheckpointAndIsCountedApart() async throws {
        let store = MemoryCheckpointStore()
        let session = DeliverySession(
            sinks: { [NullSink(name: "kafka")] }, checkpoints: AtLeastOnceCheckpoints(store: store), lifetime: .manyPasses,
            logger: Self.logger
        )
        _ = try await session.prepare()
        let counts = NIOLockedValueBox<(acknowledged: [UInt64], deadLettered: [UInt64])>(([], []))
        _ = try await session.deliver { pass in
            let sequences = Self.fetch(2, into: pass)
            pass.tracker.acknowledge(sequences[0], sink: 0)
            pass.tracker.acknowledge(sequences[1], sink: 0, as: .deadLettered)
            let snapshot = pass.tracker.snapshot
            counts.withLockedValue { $0 = (snapshot.acknowledgedCount, snapshot.deadLetteredCount) }
            return ExportSummary()
        }.get()
        #expect(counts.withLockedValue { $0.acknowledged } == [2])
        #expect(counts.withLockedValue { $0.deadLettered } == [1])
        #expect(await store.saved.last?.updatedAt == Self.time(1))
        await session.close()
    }

    /// A save that fails at the end of a pass fails the pass with the store's error (its kind decides what the run
    /// does), and the session keeps the checkpoint it last stored — not one the store does not have.
    @Test func aFailedSaveFailsThePassAndKeepsTheStoredCheckpoint() async throws {
        let stored = Checkpoint(updatedAt: "2025-12-31T00:00:00Z", idsAtUpdatedAt: ["old"])
        let store = MemoryCheckpointStore(loaded: stored, failingSaves: true)
        let session = DeliverySession(
            sinks: { [NullSink(name: "a")] }, checkpoints: AtLeastOnceCheckpoints(store: store), lifetime: .manyPasses,
            logger: Self.logger
        )
        #expect(try await session.prepare() == stored)
        let outcome = await session.deliver { pass in
            for sequence in Self.fetch(2, into: pass) { pass.tracker.acknowledge(sequence, sink: 0) }
            return ExportSummary()
        }
        #expect(throws: StoreUnavailable.self) { try outcome.get() }
        #expect(FailureKind.of(StoreUnavailable()) == .storage)
        #expect(await session.checkpoint == stored)
    }

    /// Transactional: the checkpoint is loaded after the sink opened (opening fences older producers) and again
    /// after every opening; a commit that fails acknowledges nothing, so nothing moves, and a sink that cannot flush
    /// after it is replaced.
    @Test func aFailedCommitMovesNothingAndTheCheckpointIsReadAfterEachOpening() async throws {
        let events = NIOLockedValueBox<[String]>([])
        let store = MemoryCheckpointStore(events: events)
        let transactions = CommitCheckpointSource()
        let session = DeliverySession(
            sinks: { [CommittingSink(transactions: transactions, failing: true, events: events)] },
            checkpoints: TransactionalCheckpoints(store: store, transactions: transactions), lifetime: .manyPasses,
            logger: Self.logger
        )
        _ = try await session.prepare()
        #expect(events.withLockedValue { $0 } == ["open", "load"])
        let outcome = await session.deliver { pass in
            _ = Self.fetch(2, into: pass)
            try await pass.sinks[0].flush()
            return ExportSummary()
        }
        #expect(throws: CommitFailed.self) { try outcome.get() }
        #expect(events.withLockedValue { $0 }.contains("asked below 2"), "the commit asked for the checkpoint of its records")
        #expect(await session.checkpoint == nil)
        #expect(await store.saved.isEmpty)
        _ = try await session.prepare()
        #expect(events.withLockedValue { $0 }.suffix(3) == ["close", "open", "load"], "\(events.withLockedValue { $0 })")
        await session.close()
    }

    /// At least once, the checkpoint is read once, before the sinks open: a failed pass's sink is flushed once more,
    /// closed when it cannot be, and its replacement does not read the checkpoint again.
    @Test func atLeastOnceReadsTheCheckpointOnceBeforeOpening() async throws {
        let events = NIOLockedValueBox<[String]>([])
        let store = MemoryCheckpointStore(events: events)
        let session = DeliverySession(
            sinks: { [CommittingSink(transactions: CommitCheckpointSource(), failing: true, events: events)] },
            checkpoints: AtLeastOnceCheckpoints(store: store), lifetime: .manyPasses, logger: Self.logger
        )
        _ = try await session.prepare()
        _ = await session.deliver { pass in
            try await pass.sinks[0].flush()
            return ExportSummary()
        }
        _ = try await session.prepare()
        #expect(events.withLockedValue { $0 } == ["load", "open", "flush", "flush", "close", "open"], "\(events.withLockedValue { $0 })")
        await session.close()
    }
}

/// A checkpoint store in memory; saves can be made to fail.
actor MemoryCheckpointStore: CheckpointStore {
    private let loaded: Checkpoint?
    private let failingSaves: Bool
    private let events: NIOLockedValueBox<[String]>?
    private(set) var saved: [Checkpoint] = []

    init(loaded: Checkpoint? = nil, failingSaves: Bool = false, events: NIOLockedValueBox<[String]>? = nil) {
        self.loaded = loaded
        self.failingSaves = failingSaves
        self.events = events
    }

    nonisolated var location: String { "memory" }

    func load() async throws -> Checkpoint? {
        events?.withLockedValue { $0.append("load") }
        return loaded
    }

    func save(_ checkpoint: Checkpoint) async throws {
        if failingSaves { throw StoreUnavailable() }
        saved.append(checkpoint)
    }
}

struct StoreUnavailable: ClassifiedError {
    var kind: FailureKind { .storage }
}

struct CommitFailed: Error {}

/// A sink that acknowledges nothing by itself.
struct NullSink: RecordSink {
    let name: String
    func open(acknowledger: SinkAcknowledger) async throws {}
    func write(_ record: EncodedRecord) async throws {}
    func flush() async throws {}
    func close() async throws {}
}

/// A transactional sink's part: each flush asks for the checkpoint of what it would commit, then fails.
struct CommittingSink: RecordSink {
    let transactions: CommitCheckpointSource
    let failing: Bool
    let events: NIOLockedValueBox<[String]>
    var name: String { "committing" }

    func open(acknowledger: SinkAcknowledger) async throws { events.withLockedValue { $0.append("open") } }
    func write(_ record: EncodedRecord) async throws {}
    func flush() async throws {
        if transactions.checkpoint(coveringBelow: 2) != nil { events.withLockedValue { $0.append("asked below 2") } }
        events.withLockedValue { $0.append("flush") }
        if failing { throw CommitFailed() }
    }
    func close() async throws { events.withLockedValue { $0.append("close") } }
}
