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
        sharedKafka: SharedKafkaSinkProducer?, logger: Logger, metricDimensions: [(String, String)], changes: ChangeLedger? = nil
    ) throws -> DeliverySession {
        let sinks = configuration.sinks
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
            let stateRecords = (changes?.store as? KafkaThreatStateStore).map {
                KafkaTransactionalSink.StateRecords(topic: $0.settings.topic, partition: $0.partition)
            }
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

    /// The change ledger of a run (or a shard), over the state store beside its checkpoint: an SQLite database
    /// beside the state file, or the state topic restored into a local one. nil when changes are off.
    static func changeLedger(
        _ configuration: RunConfiguration, store: RunCheckpointStore, shared: (SharedThreatState, generation: UInt64)? = nil
    ) -> ChangeLedger? {
        guard let settings = configuration.changes else { return nil }
        let stateStore: any ThreatStateStore
        switch store {
        case .file:
            stateStore = SQLiteThreatStateStore(
                path: SQLiteThreatStateStore.path(besideStateFile: configuration.statePath), startAfresh: configuration.resetState
            )
        case .kafka(let checkpoints):
            var topic = checkpoints.settings
            topic.topic = settings.stateTopic
            stateStore = KafkaThreatStateStore(
                settings: topic, owner: checkpoints.checkpointID, partition: checkpoints.partition, savedByTransactions: configuration.delivery == .exactlyOnce,
                startAfresh: configuration.resetState, shared: shared?.0, generation: shared?.generation ?? 0
            )
        }
        return ChangeLedger(store: stateStore, tracked: settings.tracked, emit: settings.emit, retention: settings.retention)
    }
}
