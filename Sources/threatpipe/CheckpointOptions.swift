import ConfigurationFile
import ArgumentParser
import Foundation
import Runtime

/// Where `run` keeps its checkpoint and how it delivers: shared by `run` and `check` (which checks the store).
struct CheckpointOptions: ParsableArguments {
    enum StoreKind: String, ExpressibleByArgument, CaseIterable {
        case file, kafka
    }

    @Option(help: "Where the checkpoint is kept: file (--state) or kafka (a compacted topic of the --kafka-brokers cluster: no volume needed).")
    var checkpointStore: StoreKind = .file

    @Option(help: "The Kafka checkpoint store's topic (created if missing, cleanup.policy=compact).")
    var checkpointTopic = "threatpipe.checkpoints"

    @Flag(inversion: .prefixedNo, help: "With --checkpoint-store kafka: create the checkpoint and state topics at start when they are missing (compacted; the state topic with the checkpoint topic's partitions). --no-create-topics for clusters where the account may not create topics: a missing one then stops the run.")
    var createTopics = true

    @Option(help: "A checkpoint topic threatpipe creates gets this many partitions (default: the number of shards with --group, else 1).")
    var checkpointPartitions: Int?

    @Option(help: "A topic threatpipe creates gets this replication factor (default: the cluster's default.replication.factor).")
    var topicReplicationFactor: Int?

    @Option(help: "This run's name: its checkpoint's key in the Kafka store and its transactional id (threatpipe-NAME). Default: derived from the console URL and the filters, printed at start.")
    var instanceId: String?

    @Option(help: "at-least-once (any sinks) or exactly-once (the Kafka sink alone, records and checkpoint committed in one Kafka transaction; needs --checkpoint-store kafka).")
    var delivery: RunConfiguration.Delivery = .atLeastOnce

    @Option(help: "Exactly once: at most this many records per transaction.")
    var transactionRecords = TransactionLimits().records

    @Option(help: "Exactly once: a transaction is committed at the latest this long after it began: a duration such as 1s or 500ms.", transform: DurationArgument.parser(or: Usage.transactionInterval))
    var transactionInterval = DurationArgument(TransactionLimits().interval, written: "\(TransactionLimits().interval.components.seconds)s")

    @Option(help: "Run as one process of the group NAME (needs --checkpoint-store kafka and the Kafka sink): the shards of the configuration file's 'shards:' list are spread over every process started with this group, through a Kafka consumer group on the checkpoint topic.")
    var group: String?

    @Option(help: "With --group: how long the group waits for a silent process (killed, cut off) before its shards move, 1s…300s.", transform: DurationArgument.parser(or: Usage.groupSessionTimeout))
    var groupSessionTimeout = DurationArgument(.seconds(10), written: "10s")

    func validate() throws {
        guard (.seconds(1) ... .seconds(300)).contains(groupSessionTimeout.duration) else {
            throw ValidationError(Usage.groupSessionTimeout)
        }
        if let group, !ShardConfiguration.isUsableName(group) {
            throw ValidationError("--group takes a name of 1…100 characters of A-Z a-z 0-9 . _ -")
        }
        try TimeOptionParsing.check(transactionRecords, in: 1...1_000_000, "transaction-records")
        if let checkpointPartitions { try TimeOptionParsing.check(checkpointPartitions, in: 1...10_000, "checkpoint-partitions") }
        if let topicReplicationFactor { try TimeOptionParsing.check(topicReplicationFactor, in: 1...32, "topic-replication-factor") }
        guard (.milliseconds(10) ... .seconds(50)).contains(transactionInterval.duration) else {
            throw ValidationError(Usage.transactionInterval)
        }
        if let instanceId, instanceId.isEmpty || instanceId.count > 200 || instanceId.contains(where: { $0.isWhitespace || $0.isNewline }) {
            throw ValidationError("--instance-id takes a name of 1…200 characters without spaces")
        }
    }

    /// The Kafka store reaches the cluster of `--kafka-brokers` (the Kafka sink's).
    func validate(with sinks: SinkOptions) throws {
        if checkpointStore == .kafka, sinks.kafkaBrokers?.isEmpty != false {
            throw ValidationError("--checkpoint-store kafka needs --kafka-brokers HOST:PORT")
        }
        if group != nil, checkpointStore != .kafka {
            throw ValidationError("--group needs --checkpoint-store kafka: the shards' checkpoints and their assignment live in the checkpoint topic")
        }
    }

    /// With `--group`: the group of the configuration file's shards, on the top-level console settings (a shard
    /// that names its own console needs no top-level one).
    func groupConfiguration(configFile: String?, source: SourceOptions) throws -> GroupConfiguration? {
        guard let group else { return nil }
        guard let path = configFile ?? ProcessInfo.processInfo.environment["THREATPIPE_CONFIG"] else {
            throw ConfigurationError(description: "--group needs shards: list them under 'shards:' in a --config file")
        }
        let entries = try ShardsFile.load(path: path)
        let everyShardNamesItsConsole = !entries.isEmpty && entries.allSatisfy { $0.consoleURL != nil }
        let base = try source.configuration(defaultConsole: everyShardNamesItsConsole ? entries[0].consoleURL : nil)
        var configuration = GroupConfiguration(name: group, shards: try ShardsFile.shards(entries, base: base))
        configuration.sessionTimeout = groupSessionTimeout.duration
        try configuration.check()
        return configuration
    }

    /// These settings on the run's configuration; the store reaches the cluster as the Kafka sink does.
    func apply(to configuration: inout RunConfiguration, sinks: SinkOptions) {
        configuration.delivery = delivery
        configuration.instanceID = instanceId
        configuration.transactionLimits = .init(records: transactionRecords, interval: transactionInterval.duration)
        if checkpointStore == .kafka {
            configuration.checkpointStore = .kafka(topicSettings(sinks: sinks))
        }
    }

    /// The Kafka store's topic, how it reaches the cluster, and how its topics are set up.
    func topicSettings(sinks: SinkOptions) -> CheckpointTopicSettings {
        var settings = CheckpointTopicSettings(
            properties: [("bootstrap.servers", sinks.kafkaBrokers ?? "")] + sinks.kafkaConfigurationProperties,
            topic: checkpointTopic
        )
        settings.createTopics = createTopics
        settings.checkpointPartitions = checkpointPartitions
        settings.replicationFactor = topicReplicationFactor
        return settings
    }
}
