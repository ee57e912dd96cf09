import Blocking
import Foundation
import Kafka
import Logging
import Persistence
import Pipeline
import Sinks
import NIOConcurrencyHelpers
import SentinelOne

extension ThreatpipeRuntime {
    /// `run --group`: joins the consumer group `threatpipe-<group>` on the checkpoint topic and runs the shards
    /// whose partitions it is assigned, until `stop` is raised; then revokes them (each drains and commits) and
    /// leaves the group, so its shards move to the other processes at once. Returns the closing line.
    public static func runGroup(
        _ configuration: RunConfiguration,
        group: GroupConfiguration,
        logger: Logger,
        status: GroupStatus = GroupStatus(),
        stop: StopSignal = StopSignal()
    ) async throws -> String {
        try configuration.check()
        try group.check()
        let settings = try groupStore(configuration)
        // The store's topics exist and can work (created when missing: the checkpoint topic with a partition per
        // shard by default); a cluster that cannot be asked fails the start, as before.
        guard let partitions = try await prepareTopics(configuration, shards: group.shards.count, logger: logger, stop: nil) else {
            throw ConfigurationError(description: "--group needs --checkpoint-store kafka")
        }
        logger.notice("joining group", metadata: [
            "group": "\(group.name)", "consumer_group": "\(group.consumerGroupID)", "shards": "\(group.shards.count)",
            "checkpoint_topic": "\(settings.topic)", "partitions": "\(partitions)", "delivery": "\(configuration.delivery.rawValue)",
        ])
        if partitions < group.shards.count {
            logger.warning("the checkpoint topic has fewer partitions than there are shards: shards sharing a partition always move together", metadata: [
                "partitions": "\(partitions)", "shards": "\(group.shards.count)",
            ])
        }
        var sessions: [String: ConsoleSession] = [:]
        var clients = ShardGroup.SharedClients()
        var made: ShardGroup?
        let result = await Result {
            // Before joining: this process's list is published unless it is the one in force, so that every member
            // reads it at the rebalance its joining causes.
            try await publishShardList(group, settings: settings, logger: logger)
            for shard in group.shards where sessions[shard.console.console.base] == nil {
                sessions[shard.console.console.base] = try ConsoleSession(configuration: shard.console, logger: logger)
            }
            // One producer for the compacted topics the stores write themselves: the checkpoints at least once,
            // the state whenever changes are tracked (its horizon records at least).
            if configuration.delivery == .atLeastOnce || configuration.changes != nil {
                do throws(KafkaError) {
                    clients.stores = try CompactedTopic.sharedProducer(settings)
                } catch {
                    throw KafkaCheckpointStoreError(topic: settings.topic, underlying: error)
                }
            }
            if configuration.delivery == .atLeastOnce, case .kafka(let kafka)? = configuration.sinks.sinks.first {
                clients.sink = try SharedKafkaSinkProducer(configuration: kafka.sinkConfiguration, logger: logger)
            }
            if let changes = configuration.changes, let stores = clients.stores {
                clients.state = SharedThreatState(settings: settings.onTopic(changes.stateTopic), lanes: stores)
            }
            let shards = ShardGroup(
                group: group, template: configuration, store: settings, partitionCount: partitions, sessions: sessions,
                clients: clients, processStop: stop, logger: logger
            )
            made = shards
            shards.reportAgreement()
            status.attach(shards)
            let member = try KafkaGroupMember(
                topic: settings.topic, groupID: group.consumerGroupID, properties: settings.properties,
                sessionTimeout: group.sessionTimeout,
                onChange: { change in
                    // The group waits on this thread until revoked shards have drained and committed.
                    let done = DispatchSemaphore(value: 0)
                    Task {
                        await shards.apply(change)
                        done.signal()
                    }
                    done.wait()
                },
                onError: { error in logger.warning("consumer group", metadata: ["error": "\(error)"]) }
            )
            try member.start()
            await stop.wait()
            // Drain every shard while still a member (the partitions stay here, so nobody starts them meanwhile),
            // then leave: the group hands them out at once instead of after the session timeout.
            await shards.stopAll()
            await performBlockingCall { member.leave() }
            await shards.stopAll()
            if let fatal = shards.state.withLockedValue({ $0.fatal }) { throw fatal }
        }
        for session in made?.allSessions ?? Array(sessions.values) { await session.shutdown() }
        // Every shard has stopped (or none started): the shared producers have no lane left.
        await clients.sink?.close()
        await clients.state?.close()
        if let stores = clients.stores { _ = await stores.producer.close(flushTimeout: settings.timeout) }
        try result.get()
        return "threatpipe: stopped; left group \(group.name), every shard it held drained and its checkpoint saved"
    }

    /// Publishes this process's shard list for the group unless it is the newest published already (see
    /// ``ShardList``). A list that cannot be read is published again.
    static func publishShardList(_ group: GroupConfiguration, settings: CompactedTopic.Settings, logger: Logger) async throws {
        let own = ShardList(group.shards)
        let published = try? await PublishedShardList.read(group: group.name, settings: settings)
        guard published?.digest != own.digest else { return }
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        let mine = PublishedShardList(
            list: own, version: max(now, (published?.version ?? 0) + 1),
            publisher: "\(hostName())/\(ProcessInfo.processInfo.processIdentifier)"
        )
        try await mine.publish(group: group.name, settings: settings)
        logger.notice("shard list published: the group runs it from the next rebalance", metadata: [
            "digest": "\(own.digest)", "shards": "\(own.shards.count)", "replaces": "\(published?.digest ?? "none")",
        ])
    }

    /// This machine's host name (a pod's name), without a DNS look-up.
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The Kafka store's settings; a group keeps its shards' checkpoints and assignment in that topic.
    static func groupStore(_ configuration: RunConfiguration) throws -> CompactedTopic.Settings {
        guard case .kafka(let settings) = configuration.checkpointStore else {
            throw ConfigurationError(description: "--group needs --checkpoint-store kafka: the shards' checkpoints and their assignment live in the checkpoint topic")
        }
        let kafkaOnly = configuration.sinks.sinks.allSatisfy { if case .kafka = $0 { true } else { false } }
        guard kafkaOnly, !configuration.sinks.sinks.isEmpty else {
            throw ConfigurationError(description: "--group needs the Kafka sink as the only sink: shards move between processes, files and stdout do not")
        }
        return settings.storeSettings
    }
}
