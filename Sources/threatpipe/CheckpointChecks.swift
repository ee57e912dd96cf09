import Blocking
import Kafka
import Runtime

extension CheckCommand {
    /// The Kafka checkpoint store: its topic exists, how many partitions, whether it is compacted; and with exactly
    /// once, that the cluster registers a transactional id of this instance.
    func checkCheckpointStore() async -> [Line] {
        if checkpoints.group != nil, let failure = Result(catching: { try groupConfiguration() }).failure {
            return [Line(name: "group \(checkpoints.group!)", failure: failure, detail: "\(failure)")]
        }
        guard checkpoints.checkpointStore == .kafka, let brokers = sinks.kafkaBrokers else { return [] }
        let topic = checkpoints.checkpointTopic
        let properties = [("bootstrap.servers", brokers)] + sinks.kafkaConfigurationProperties
        let metadata = await performBlockingCall {
            Result { () throws(KafkaError) in try KafkaClusterProbe.metadata(topic: topic, properties: properties, timeout: .seconds(5)) }
        }
        var lines: [Line] = []
        switch metadata {
        case .success(let metadata) where metadata.partitions != nil:
            let policy = await performBlockingCall {
                (try? KafkaClusterProbe.topicConfiguration(topic: topic, key: "cleanup.policy", properties: properties, timeout: .seconds(5)))
                    ?? .noAnswer
            }
            let compaction = switch policy {
            case .value(let value) where value.contains("compact"): "compacted (cleanup.policy=\(value))"
            case .value(let value): "NOT compacted (cleanup.policy=\(value)): old checkpoints are deleted by age only; set cleanup.policy=compact"
            case .notSet: "cleanup.policy is not set on this topic (so: delete): old checkpoints are deleted by age only; set cleanup.policy=compact"
            case .noAnswer: "compaction unknown (the cluster did not answer DescribeConfigs)"
            }
            lines.append(Line(name: "checkpoint topic \(topic)", detail: "present, \(metadata.partitions!) partitions, \(compaction)"))
            lines += groupLines(partitions: metadata.partitions!)
        case .success:
            let error = KafkaError(code: .unknownTopicOrPartition, name: "UNKNOWN_TOPIC_OR_PART", message: "topic \(topic) does not exist")
            lines.append(Line(name: "checkpoint topic \(topic)", failure: error, detail: "does not exist: create it with cleanup.policy=compact"))
            return lines
        case .failure(let error):
            lines.append(Line(name: "checkpoint topic \(topic)", failure: error, detail: "\(error)"))
            return lines
        }
        guard checkpoints.delivery == .exactlyOnce else { return lines }
        // A probe id of its own: registering the run's id itself would fence a running instance.
        let instance = checkpoints.instanceId ?? ((try? source.configuration()).map {
            RunConfiguration.defaultInstanceID(console: $0.console, filters: $0.filters)
        } ?? "threatpipe")
        let probe = "threatpipe-\(instance)-check"
        let registered = await performBlockingCall {
            Result { () throws(KafkaError) in
                try KafkaClusterProbe.initTransactions(transactionalID: probe, properties: properties, timeout: .seconds(10))
            }
        }
        switch registered {
        case .success:
            lines.append(Line(name: "transactions", detail: "the cluster registered transactional id \(probe) (InitProducerId)"))
        case .failure(let error):
            lines.append(Line(name: "transactions", failure: error, detail: "InitProducerId for \(probe) failed: \(error)"))
        }
        return lines
    }
}

extension CheckCommand {
    /// `--group`: the shards of the configuration file.
    func groupConfiguration() throws -> GroupConfiguration? {
        try checkpoints.groupConfiguration(configFile: operations.config, source: source)
    }

    /// `--group`: the group's shards — each one's console, token, filters and partition — and whether the
    /// checkpoint topic has partitions enough: one per process at least (a process without a partition holds no
    /// shard), one per shard advised (shards sharing a partition always move together).
    func groupLines(partitions: Int) -> [Line] {
        guard let group = try? groupConfiguration() else { return [] }
        let advice = partitions >= group.shards.count
            ? "at most \(partitions) processes hold shards"
            : "fewer partitions than shards: shards sharing a partition move together; \(group.shards.count) partitions advised"
        var lines = [Line(
            name: "group \(group.name)",
            detail: "\(group.shards.count) shards, consumer group \(group.consumerGroupID), \(partitions) partitions: \(advice)"
        )]
        for shard in group.shards {
            let console = shard.console
            let tokenSource = console.apiTokenFile ?? "$S1_API_TOKEN"
            let token = Result { try console.token() }
            let filters = console.filters.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
            let partition = ShardPlacement.partition(of: shard.name, partitions: partitions)
            lines.append(Line(
                name: "shard \(shard.name)", failure: token.failure,
                detail: "console \(console.console.base), token \(tokenSource) \(token.failure == nil ? "readable" : "unreadable: \(token.failure!)"), "
                    + "filters \(filters.isEmpty ? "none" : filters), partition \(partition)"
            ))
        }
        return lines
    }
}

extension Result {
    /// The error, if this is a failure.
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
