import Blocking
import Durations
import Kafka
import Logging
import Metrics
import NIOConcurrencyHelpers
import Pipeline

/// Exactly once per threat version: produces records inside Kafka transactions, each committed together with the
/// checkpoint record its records reach — so a `read_committed` consumer sees a record if and only if the stored
/// checkpoint covers it, and a restart resumes exactly after the last committed record.
///
/// A transaction holds at most ``Limits/records`` records and lasts at most ``Limits/interval``; the end of every
/// poll (``flush()``) commits the open one. Committing is the acknowledgement: no record is acknowledged before.
/// Any error aborts the transaction and fails the sink (the poll resumes from the stored checkpoint); a producer
/// fenced by a newer one with the same `transactional.id` fails with ``FailureKind/fenced`` and writes nothing more.
public actor KafkaTransactionalSink: RecordSink {
    /// How large a transaction may grow.
    public struct Limits: Sendable {
        public var records: Int
        public var interval: Duration

        /// The defaults, here alone: the runtime's settings and the command line take theirs from these.
        public static let defaultRecords = 5000
        public static let defaultInterval: Duration = .seconds(1)

        public init(records: Int = defaultRecords, interval: Duration = defaultInterval) {
            self.records = records
            self.interval = interval
        }
    }

    /// Where the threats' state goes: each record's entry (``EncodedRecord/state``) is written to this topic in the
    /// record's transaction, so that state, records and checkpoint become visible together.
    public struct StateRecords: Sendable {
        public var topic: String
        /// The entries' partition (a shard's checkpoint partition); nil: the key's.
        public var partition: Int32?

        public init(topic: String, partition: Int32?) {
            self.topic = topic
            self.partition = partition
        }
    }

    /// Where the checkpoint record goes and how it is made.
    public struct CheckpointRecords: Sendable {
        public var topic: String
        /// The checkpoint's partition (a shard's); nil: the partitioner chooses.
        public var partition: Int32?
        /// What the next commit's checkpoint is: the pass under way's, up to the records committed.
        public var source: CommitCheckpointSource
        /// The record (key, value) for a checkpoint.
        public var record: @Sendable (Checkpoint) -> (key: String, value: [UInt8])

        public init(
            topic: String, partition: Int32? = nil, source: CommitCheckpointSource,
            record: @escaping @Sendable (Checkpoint) -> (key: String, value: [UInt8])
        ) {
            self.topic = topic
            self.partition = partition
            self.source = source
            self.record = record
        }
    }

    public nonisolated let name: String
    /// An unsent record is committed all the same: its state entry, and the checkpoint past it.
    public nonisolated var takesUnsentRecords: Bool { true }
    private let configuration: KafkaSinkConfiguration
    private let transactionalID: String
    private let limits: Limits
    private let checkpointRecords: CheckpointRecords
    private let stateRecords: StateRecords?
    private let logger: Logger
    private var producer: KafkaProducer?
    private var acknowledger: SinkAcknowledger?
    /// The transaction under way: its records' sequence numbers and when it began.
    private var pending: [UInt64] = []
    private var began: ContinuousClock.Instant?
    /// Records written ahead of an earlier one still being enriched (enrichment finishes out of order), by sequence
    /// number: produced once every earlier record is. So a transaction holds a run of sequence numbers from the
    /// poll's start, and the checkpoint it commits covers every record it commits — a record committed above a gap
    /// was not in the checkpoint, and a restart after a kill committed it again. Records held when the poll ends
    /// follow a record a stop withdrew: they are not sent, and the next run delivers them.
    private var ahead: [UInt64: EncodedRecord] = [:]
    /// The sequence number to produce next: every record of the poll below it is produced, in order, so a commit
    /// covers exactly the records below it — the watermark the commit's checkpoint is asked for.
    private var nextSequence: UInt64 = 0
    private let failure = KafkaFailureBox()

    public init(
        configuration: KafkaSinkConfiguration, transactionalID: String, limits: Limits = Limits(),
        checkpointRecords: CheckpointRecords, stateRecords: StateRecords? = nil, logger: Logger
    ) {
        self.stateRecords = stateRecords
        self.configuration = configuration
        self.transactionalID = transactionalID
        self.limits = limits
        self.checkpointRecords = checkpointRecords
        self.logger = logger
        self.name = "kafka:\(configuration.topic)"
    }

    /// The producer's properties: the sink's, made transactional. A message must time out within a transaction's
    /// lifetime (librdkafka requires it).
    var properties: [(key: String, value: String)] {
        configuration.effectiveProperties + [
            ("transactional.id", transactionalID), ("transaction.timeout.ms", "\(Self.transactionTimeoutMilliseconds)"),
            ("message.timeout.ms", "\(Self.transactionTimeoutMilliseconds)"),
        ]
    }

    /// Makes the producer and registers the transactional id, which fences any older producer of the same id and
    /// aborts the transaction it left open.
    public func open(acknowledger: SinkAcknowledger) async throws {
        self.acknowledger = acknowledger
        let failure = self.failure
        let logger = self.logger
        let producer = try KafkaProducer(
            topic: configuration.topic,
            properties: properties,
            headers: configuration.headers,
            onDelivery: { report in
                // Delivered is not yet committed: acknowledgements wait for the commit.
                if let error = report.error { failure.record(error) }
            },
            onError: { error in
                if error.isFatal { failure.record(error) } else { logger.warning("kafka: \(error)") }
            },
            onLog: KafkaSink.librdkafkaLog(logger)
        )
        self.producer = producer
        do throws(KafkaError) {
            // An InitProducerId answered late is resumed like a commit, while librdkafka has no complaint about
            // reaching the cluster (a cluster that refuses connections fails the poll at once, as before).
            try await resuming("registration of the transactional id", mayResume: { producer.connection.unreachableCause == nil }) {
                () throws(KafkaError) in
                try await producer.initTransactions(timeout: configuration.flushTimeout)
            }
        } catch {
            self.producer = nil
            _ = await producer.close(flushTimeout: .zero)
            throw sinkError("cannot start transactions as \(transactionalID)", error)
        }
    }

    public func write(_ record: EncodedRecord) async throws {
        guard producer != nil else { throw SinkError(sink: name, message: "written before open or after close") }
        try throwIfFailed()
        guard record.sequence == nextSequence else {
            ahead[record.sequence] = record
            return
        }
        try await produceInOrder(record)
        while let next = ahead.removeValue(forKey: nextSequence) {
            try await produceInOrder(next)
        }
    }

    /// Produces the record numbered `nextSequence` into the open transaction (beginning one), and commits when the
    /// transaction is full or old enough.
    private func produceInOrder(_ record: EncodedRecord) async throws {
        guard let producer else { throw SinkError(sink: name, message: "written before open or after close") }
        if began == nil {
            do {
                try producer.beginTransaction()
            } catch {
                throw sinkError("cannot begin a transaction", error)
            }
            began = .now
        }
        do {
            // A full queue waits for deliveries (a flush inside a transaction only waits). A record `--emit changes`
            // does not send is committed all the same: its state, and the checkpoint past it.
            if case .send(let bytes) = record.payload {
                try await producer.produceWhenRoom(key: record.key, value: bytes, tag: record.sequence, versionID: record.versionID)
            }
            if let stateRecords, let state = record.threatState {
                try await producer.produceWhenRoom(
                    key: state.id, value: state.encoded, tag: UInt64.max - 2, topic: stateRecords.topic, partition: stateRecords.partition
                )
            }
        } catch {
            await abort()
            throw sinkError("cannot produce the record of threat \(record.key)", error)
        }
        nextSequence += 1
        pending.append(record.sequence)
        if pending.count >= limits.records || (began.map { .now - $0 >= limits.interval } ?? false) {
            try await commit()
        }
    }

    /// Commits the open transaction; the poll's sequence numbers start again after it. With no transaction open
    /// (a poll that found nothing new), one holding the checkpoint alone is committed: it costs one round trip per
    /// poll and is how an idle producer learns that it was fenced.
    public func flush() async throws {
        guard let producer else { throw SinkError(sink: name, message: "flushed before open or after close") }
        if began == nil, checkpointRecords.source.checkpoint(coveringBelow: nextSequence) != nil {
            do {
                try producer.beginTransaction()
            } catch {
                throw sinkError("cannot begin a transaction", error)
            }
            began = .now
        }
        try await commit()
        ahead.removeAll()
        nextSequence = 0
    }

    /// Aborts the open transaction (what it holds was never acknowledged) and closes the producer.
    public func close() async throws {
        guard let producer else { return }
        await abort()
        self.producer = nil
        _ = await producer.close(flushTimeout: configuration.flushTimeout)
    }

    /// Writes the checkpoint the transaction's records reach, commits, then acknowledges them.
    private func commit() async throws {
        guard let producer, let began else { return }
        try throwIfFailed()
        if let checkpoint = checkpointRecords.source.checkpoint(coveringBelow: nextSequence) {
            let record = checkpointRecords.record(checkpoint)
            do {
                try await producer.produceWhenRoom(
                    key: record.key, value: record.value, tag: UInt64.max - 1, topic: checkpointRecords.topic,
                    partition: checkpointRecords.partition
                )
            } catch {
                await abort()
                throw sinkError("cannot produce the checkpoint record", error)
            }
        }
        do throws(KafkaError) {
            try await settle(producer)
        } catch {
            // Abort only what librdkafka says needs it; after a fatal error, a fenced producer or a commit whose
            // outcome stayed unknown past the bound, the producer is replaced and its successor's InitProducerId
            // completes or aborts the transaction (an abort now would conflict with the commit under way).
            if error.requiresAbort, !error.endsTransactionalProducer { await abort() }
            Self.outcome(error.endsTransactionalProducer ? "fenced" : "failed", since: began)
            self.began = nil
            pending.removeAll()
            throw sinkError("the transaction could not be committed", error)
        }
        try throwIfFailed()
        Self.outcome("committed", since: began)
        acknowledger?.acknowledge(pending)
        pending.removeAll(keepingCapacity: true)
        self.began = nil
    }

    /// Commits the open transaction the way librdkafka documents it (`rd_kafka_commit_transaction` in rdkafka.h): a
    /// retriable error (a coordinator slow to answer EndTxn: `_TIMED_OUT`) leaves the outcome unknown and the call
    /// resumable, so the same commit is called again — until it succeeds, needs an abort, is fatal, or
    /// ``commitBound`` has passed since it began. A commit settled after a retry is a warning and
    /// `threatpipe_transactions_total{outcome="retried"}`, not a failed poll.
    private func settle(_ producer: KafkaProducer) async throws(KafkaError) {
        try await resuming("commit") { () throws(KafkaError) in
            try await producer.commitTransaction(timeout: configuration.flushTimeout)
        }
    }

    /// Calls `call` (a resumable transactional call: init or commit) again after each resumable error until it
    /// succeeds, fails otherwise, `mayResume` says no, or ``commitBound`` has passed since the first call.
    private func resuming(
        _ what: String, mayResume: () -> Bool = { true }, _ call: () async throws(KafkaError) -> Void
    ) async throws(KafkaError) {
        let first = ContinuousClock.now
        var retries = 0
        var backoff = Duration.milliseconds(50)
        while true {
            do throws(KafkaError) {
                try await call()
                if retries > 0 {
                    logger.notice("kafka: a slow \(what) settled", metadata: [
                        "retries": "\(retries)", "took_ms": "\((ContinuousClock.now - first) / .milliseconds(1))",
                    ])
                }
                return
            } catch where Self.resumable(error) && mayResume() && ContinuousClock.now - first < commitBound {
                retries += 1
                if retries == 1 {
                    Counter(label: "threatpipe_transactions_total", dimensions: [("outcome", "retried")]).increment()
                    logger.warning("kafka: the \(what)'s outcome is not known yet; calling it again (librdkafka: retriable, resumable)", metadata: [
                        "error": "\(error)", "bound_s": "\(commitBound.components.seconds)",
                    ])
                }
                // A timed-out call has already waited its timeout; an error answered at once waits a little.
                if ContinuousClock.now - first < configuration.flushTimeout * retries {
                    try? await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, .seconds(1))
                }
            }
        }
    }

    /// Whether a failed commit may simply be called again (librdkafka: retriable, neither abortable nor fatal).
    static func resumable(_ error: KafkaError) -> Bool {
        error.isRetriable && !error.requiresAbort && !error.isFatal && !error.endsTransactionalProducer
    }

    /// How long a commit is resumed: the transaction's own timeout, after which the coordinator aborts it anyway.
    var commitBound: Duration { .milliseconds(Self.transactionTimeoutMilliseconds) }

    static let transactionTimeoutMilliseconds = 60_000

    /// Aborts the open transaction, if any; its records are never seen by `read_committed` consumers.
    private func abort() async {
        guard let producer, let began else { return }
        self.began = nil
        pending.removeAll()
        do {
            try await producer.abortTransaction(timeout: configuration.flushTimeout)
            Self.outcome("aborted", since: began)
            logger.warning("kafka: transaction aborted; its records go out again from the checkpoint")
        } catch {
            failure.record(error)
            logger.warning("kafka: the transaction could not be aborted", metadata: ["error": "\(error)"])
        }
    }

    private static func outcome(_ outcome: String, since began: ContinuousClock.Instant) {
        Counter(label: "threatpipe_transactions_total", dimensions: [("outcome", outcome)]).increment()
        Timer(label: "threatpipe_transaction_seconds").recordNanoseconds((ContinuousClock.now - began).saturatingNanoseconds)
    }

    private func throwIfFailed() throws {
        guard let error = failure.error else { return }
        throw sinkError("a record was not delivered", error)
    }

    /// A fenced producer's error keeps its kind (the run must stop); every other failure is the sink's (retried).
    private func sinkError(_ what: String, _ error: any Error) -> any Error {
        if let kafka = error as? KafkaError,
            kafka.endsTransactionalProducer || (kafka.isFatal && failure.error?.endsTransactionalProducer == true)
        {
            return KafkaFencedError(transactionalID: transactionalID, underlying: kafka)
        }
        if let kafka = error as? KafkaError, kafka.code == .invalidConfiguration { return kafka }
        // While no broker was ever reached, librdkafka's own complaint says why (refused, TLS, SASL, protocol).
        let text = (error as? KafkaError).flatMap { kafka in producer.map { "\(kafka.explained(by: $0.connection))" } } ?? "\(error)"
        return SinkError(sink: name, message: "\(what): \(text)")
    }
}

/// Another process started with the same instance id: this one's producer was fenced and must stop writing.
public struct KafkaFencedError: Error, Sendable, CustomStringConvertible, ClassifiedError {
    public var transactionalID: String
    public var underlying: KafkaError
    public var kind: FailureKind { .fenced }
    public var description: String {
        guard underlying.isFenced else {
            return "fenced: the cluster no longer knows the transactions of transactional id \(transactionalID) "
                + "(\(underlying.name): it expired, or another process registered it); this one stopped writing rather "
                + "than go on as a possible zombie (\(underlying))"
        }
        return "fenced: another process took over transactional id \(transactionalID) (the same --instance-id); "
            + "this one stopped writing (\(underlying))"
    }
}

/// The first failure a producer's callbacks reported (from librdkafka's threads).
final class KafkaFailureBox: Sendable {
    private let first = NIOLockedValueBox<KafkaError?>(nil)
    func record(_ error: KafkaError) { first.withLockedValue { if $0 == nil { $0 = error } } }
    var error: KafkaError? { first.withLockedValue { $0 } }
}
