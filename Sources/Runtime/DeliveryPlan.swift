import Logging
import Persistence
import Pipeline
import Sinks

/// The checkpoint store a run was given, by kind: exactly once needs the Kafka one by type, not by a downcast.
enum RunCheckpointStore: Sendable {
    case file(CheckpointFileStore)
    case kafka(KafkaCheckpointStore)

    var store: any CheckpointStore {
        switch self {
        case .file(let store): store
        case .kafka(let store): store
        }
    }
}

/// How a run (or one shard of a group) delivers, decided once from its configuration — the one place that asks
/// which delivery it is:
/// - at least once: the configured sinks, and the checkpoint saved by the store's own writes
///   (``AtLeastOnceCheckpoints``);
/// - exactly once: the transactional Kafka sink alone, committing the checkpoint and the threats' state in each
///   transaction (``TransactionalCheckpoints``), the stores writing nothing themselves.
///
/// With changes tracked, the threats' state sits over the store beside the checkpoint. Who writes each store's
/// records was decided by ``RunConfiguration/storeWrites`` when the stores were made. A configuration that cannot do
/// what it asks fails here, never falls back.
struct DeliveryPlan: Sendable {
    /// The session every pass delivers through: the sinks it makes and the checkpoint policy.
    let session: DeliverySession
    /// The threats' state (meta.change); nil when changes are off.
    let threatState: ThreatState?

    init(
        _ configuration: RunConfiguration, store: RunCheckpointStore, transactionalID: String, deadLetters: DeadLetterFile?,
        sharedKafka: SharedKafkaSinkProducer?, sharedState: (SharedThreatState, generation: UInt64)?, logger: Logger,
        metricDimensions: [(String, String)]
    ) throws {
        let state = Self.threatState(configuration, store: store, shared: sharedState)
        threatState = state
        session = try Self.session(
            configuration, store: store, transactionalID: transactionalID, deadLetters: deadLetters,
            sharedKafka: sharedKafka, logger: logger, metricDimensions: metricDimensions, state: state
        )
    }

    /// Closes what the plan opened beside the checkpoint store (the threats' state store); the caller closes the
    /// checkpoint store it made.
    func close() async {
        await threatState?.ledger.store.close()
    }

    /// The delivery session, by delivery and store: an exhaustive switch.
    private static func session(
        _ configuration: RunConfiguration, store: RunCheckpointStore, transactionalID: String, deadLetters: DeadLetterFile?,
        sharedKafka: SharedKafkaSinkProducer?, logger: Logger, metricDimensions: [(String, String)], state: ThreatState?
    ) throws -> DeliverySession {
        let sinks = configuration.sinks
        let changes = state?.ledger
        switch (configuration.delivery, store) {
        case (.atLeastOnce, _):
            return DeliverySession(
                sinks: { sinks.makeSinks(logger: logger, deadLetters: deadLetters, sharedKafka: sharedKafka) },
                checkpoints: AtLeastOnceCheckpoints(store: store.store), lifetime: .manyPasses, logger: logger,
                metricDimensions: metricDimensions, changes: changes
            )
        case (.exactlyOnce, .kafka(let kafkaStore)):
            guard sinks.sinks.count == 1, case .kafka(let kafka) = sinks.sinks[0] else { break }
            let transactions = CommitCheckpointSource()
            let limits = configuration.transactionLimits.sinkLimits
            let checkpointRecords = KafkaTransactionalSink.CheckpointRecords(
                topic: kafkaStore.settings.topic, partition: kafkaStore.partition, source: transactions,
                record: { kafkaStore.record(for: $0) }
            )
            // The threats' state is committed in the records' transactions, to the state topic.
            let stateRecords = state?.transactionalRecords
            return DeliverySession(
                sinks: {
                    [KafkaTransactionalSink(
                        configuration: kafka.sinkConfiguration, transactionalID: transactionalID, limits: limits,
                        checkpointRecords: checkpointRecords, stateRecords: stateRecords, logger: logger
                    )]
                },
                checkpoints: TransactionalCheckpoints(store: kafkaStore, transactions: transactions), lifetime: .manyPasses,
                logger: logger, metricDimensions: metricDimensions, changes: changes
            )
        case (.exactlyOnce, .file):
            break
        }
        // `RunConfiguration.check()` refuses these first; the same words if a caller skipped it.
        try configuration.check()
        throw ConfigurationError(description: "--delivery exactly-once needs the Kafka sink as the only sink and --checkpoint-store kafka")
    }


    /// The threats' state of a run (or a shard): the change ledger, over the state store beside its checkpoint — an
    /// SQLite database beside the state file, or the state topic restored into a local one — and, with the Kafka
    /// store, where the transactional sink commits the entries. nil when changes are off.
    private static func threatState(
        _ configuration: RunConfiguration, store: RunCheckpointStore, shared: (SharedThreatState, generation: UInt64)? = nil
    ) -> ThreatState? {
        guard let settings = configuration.changes else { return nil }
        let stateStore: any ThreatStateStore
        var transactionalRecords: KafkaTransactionalSink.StateRecords?
        switch store {
        case .file:
            stateStore = SQLiteThreatStateStore(
                path: SQLiteThreatStateStore.path(besideStateFile: configuration.statePath), startAfresh: configuration.resetState
            )
        case .kafka(let checkpoints):
            let topic = checkpoints.settings.onTopic(settings.stateTopic)
            stateStore = KafkaThreatStateStore(
                settings: topic, owner: checkpoints.checkpointID, partition: checkpoints.partition, writes: configuration.storeWrites,
                startAfresh: configuration.resetState, shared: shared?.0, generation: shared?.generation ?? 0
            )
            transactionalRecords = KafkaTransactionalSink.StateRecords(topic: topic.topic, partition: checkpoints.partition)
        }
        return ThreatState(
            ledger: ChangeLedger(store: stateStore, tracked: settings.tracked, emit: settings.emit, retention: settings.retention),
            transactionalRecords: transactionalRecords
        )
    }
}

/// The threats' state of a run or a shard: its change ledger, and — with the Kafka store — the topic and partition
/// the transactional sink commits the entries to.
struct ThreatState: Sendable {
    let ledger: ChangeLedger
    let transactionalRecords: KafkaTransactionalSink.StateRecords?
}
