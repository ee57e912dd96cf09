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

extension ThreatpipeRuntime {
    /// The delivery session a run (or one shard of a group) delivers through, chosen once: at least once, the
    /// configured sinks and the store's saves; exactly once, the transactional Kafka sink committing the checkpoint
    /// in its transactions. A configuration that cannot do what it asks fails here, never falls back.
    static func deliverySession(
        _ configuration: RunConfiguration, store: RunCheckpointStore, transactionalID: String, deadLetters: DeadLetterFile?,
        sharedKafka: SharedKafkaSinkProducer?, logger: Logger, metricDimensions: [(String, String)], state: ThreatState? = nil
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
    static func threatState(
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
            var topic = checkpoints.settings
            topic.topic = settings.stateTopic
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
