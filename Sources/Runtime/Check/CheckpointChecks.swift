import Blocking
import Kafka
import Persistence
import Logging
import Pipeline
import SentinelOne

extension ThreatpipeRuntime {
    /// The Kafka checkpoint store: its topic exists, how many partitions, whether it is compacted; and with exactly
    /// once, that the cluster registers a transactional id of this instance.
    static func checkCheckpointStore(_ check: CheckConfiguration) async -> [CheckLine] {
        if let group = check.group, case .failure(let failure) = group.shards {
            return [CheckLine(name: "group \(group.name)", failure: failure, detail: "\(failure)")]
        }
        guard let (topic, properties) = check.checkpointTopic else { return [] }
        // The same verdicts as `run`'s start (``InternalTopics``), without creating anything.
        var settings = CompactedTopic.Settings(properties: properties, topic: topic)
        settings.timeout = .seconds(5)
        let shards = (try? check.group?.shards.get())?.shards.count ?? 1
        let topics = InternalTopics(
            settings: settings, stateTopic: check.stateTopic, createMissing: check.topicCreation.createTopics,
            checkpointPartitions: check.topicCreation.checkpointPartitions ?? shards,
            replicationFactor: check.topicCreation.replicationFactor
        )
        let verdicts: [InternalTopics.Verdict]
        do {
            verdicts = try await topics.inspect()
        } catch {
            return [CheckLine(name: "checkpoint topic \(topic)", failure: error, detail: "\(error)")]
        }
        var lines = verdicts.map { CheckLine(name: "\($0.role.rawValue) topic \($0.topic)", failure: $0.failure, detail: $0.detail) }
        guard let checkpoint = verdicts.first(where: { $0.role == .checkpoint }), checkpoint.failure == nil,
            let partitions = checkpoint.partitions
        else { return lines }
        if checkpoint.create == nil { lines.append(await checkpointSizeLine(check, topic: topic, properties: properties)) }
        lines += groupLines(check, partitions: partitions)
        guard check.delivery == .exactlyOnce else { return lines }
        // A probe id of its own: registering the run's id itself would fence a running instance.
        let instance = check.instanceID ?? ((try? check.console.get()).map {
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
            lines.append(CheckLine(name: "transactions", detail: "the cluster registered transactional id \(probe) (InitProducerId)"))
        case .failure(let error):
            lines.append(CheckLine(name: "transactions", failure: error, detail: "InitProducerId for \(probe) failed: \(error)"))
        }
        return lines
    }
}

extension ThreatpipeRuntime {
    /// The topic's `max.message.bytes` against what the store writes: this instance's stored checkpoint (outside a
    /// group) must fit, or every save fails; a checkpoint grows with the versions of the overlap up to the store
    /// producer's 16 MiB, so a lower limit is named with the value that fits every checkpoint.
    static func checkpointSizeLine(_ check: CheckConfiguration, topic: String, properties: [(key: String, value: String)]) async -> CheckLine {
        let answer = await performBlockingCall {
            (try? KafkaClusterProbe.topicConfiguration(topic: topic, key: "max.message.bytes", properties: properties, timeout: .seconds(5)))
                ?? .noAnswer
        }
        let producerLimit = CompactedTopic.maximumRecordBytes
        let limit: Int?
        var detail: String
        switch answer {
        case .value(let value):
            limit = Int(value)
            detail = "max.message.bytes=\(value)"
        case .notSet:
            limit = nil
            detail = "max.message.bytes is not set on this topic (the broker's message.max.bytes applies, 1048588 by default)"
        case .noAnswer:
            limit = nil
            detail = "max.message.bytes unknown (the cluster did not answer DescribeConfigs)"
        }
        if limit.map({ $0 < producerLimit }) ?? true {
            detail += "; a checkpoint grows with the overlap's versions (about 70 bytes each), up to \(producerLimit) bytes: "
                + "max.message.bytes=\(producerLimit) fits every one"
        }
        guard check.group == nil else { return CheckLine(name: "checkpoint size", detail: detail) }
        let size: Int?
        switch await storedCheckpointSize(check, topic: topic, properties: properties) {
        case .success(let stored): size = stored
        case .failure(let error): return CheckLine(name: "checkpoint size", detail: "this instance's checkpoint could not be read (\(error)); " + detail)
        }
        guard let size else { return CheckLine(name: "checkpoint size", detail: "no checkpoint stored for this instance yet; " + detail) }
        if let limit, size > limit {
            let error = ConfigurationError(
                description: "this instance's checkpoint is \(size) bytes, over the topic's max.message.bytes=\(limit): "
                    + "it cannot be saved again; set max.message.bytes=\(producerLimit)"
            )
            return CheckLine(name: "checkpoint size", failure: error, detail: error.description)
        }
        return CheckLine(name: "checkpoint size", detail: "this instance's checkpoint is \(size) bytes; " + detail)
    }

    /// The size of the record holding this instance's stored checkpoint; nil when there is none.
    private static func storedCheckpointSize(
        _ check: CheckConfiguration, topic: String, properties: [(key: String, value: String)]
    ) async -> Result<Int?, any Error> {
        let console: ConsoleConfiguration
        do {
            console = try check.console.get()
        } catch {
            return .failure(error)
        }
        let filters = console.filters.map { "\($0.name)=\($0.value)" }
        let instance = check.instanceID ?? RunConfiguration.defaultInstanceID(console: console.console, filters: console.filters)
        var settings = CompactedTopic.Settings(properties: properties, topic: topic)
        settings.timeout = .seconds(10)
        let store = KafkaCheckpointStore(settings: settings, checkpointID: instance, consoleURL: console.console.base, filters: filters)
        let loaded: Result<Int?, any Error>
        do {
            loaded = .success(try await store.load().map { store.record(for: $0).value.count })
        } catch {
            loaded = .failure(error)
        }
        await store.close()
        return loaded
    }
}

extension ThreatpipeRuntime {
    /// `--group`: the group's shards — each one's console, token, filters and partition — and whether the
    /// checkpoint topic has partitions enough: one per process at least (a process without a partition holds no
    /// shard), one per shard advised (shards sharing a partition always move together).
    static func groupLines(_ check: CheckConfiguration, partitions: Int) -> [CheckLine] {
        guard case .success(let group)? = check.group?.shards else { return [] }
        let advice = partitions >= group.shards.count
            ? "at most \(partitions) processes hold shards"
            : "fewer partitions than shards: shards sharing a partition move together; \(group.shards.count) partitions advised"
        var lines = [CheckLine(
            name: "group \(group.name)",
            detail: "\(group.shards.count) shards, consumer group \(group.consumerGroupID), \(partitions) partitions: \(advice)"
        )]
        for shard in group.shards {
            let console = shard.console
            let tokenSource = console.apiTokenFile ?? "$S1_API_TOKEN"
            let token = Result { try console.token() }
            let filters = console.filters.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
            let partition = ShardPlacement.partition(of: shard.name, partitions: partitions)
            lines.append(CheckLine(
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
