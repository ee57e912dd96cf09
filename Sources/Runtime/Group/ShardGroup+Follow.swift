import CoreMetrics
import Logging
import Persistence
import Pipeline
import NIOConcurrencyHelpers
import SentinelOne

extension ShardGroup {
    /// Runs one shard until its stop is raised: follows its console from its checkpoint (in its partition of the
    /// checkpoint topic). A failure that would end a single `run` (its token file unreadable, its checkpoint
    /// corrupt) leaves the shard unhealthy and is retried after the longest backoff — the other shards go on; a
    /// fenced producer stops the process (another one owns the shard).
    /// `read` serves the first checkpoint load; a start after a failure reads the partition afresh.
    func follow(_ shard: ShardConfiguration, partition: Int32, stop: StopSignal, health: PollHealth, read: CheckpointTopicRead) async {
        var sharedRead: CheckpointTopicRead? = read
        var configuration = template
        configuration.console = shard.console
        var logger = self.logger
        logger[metadataKey: "shard"] = "\(shard.name)"
        while !stop.isStopRequested, !Task.isCancelled {
            let session: ConsoleSession
            do {
                session = try self.session(for: shard.console, logger: logger)
            } catch {
                // A console this process cannot reach as the list in force names it (its CA file, say): unhealthy,
                // tried again like any failed start.
                PipelineMetrics.consecutiveFailures([("shard", shard.name)]).record(health.recordFailure(error))
                logger.critical("shard cannot start: \(error)", metadata: ["next_start_in": "\(configuration.maximumBackoff)"])
                await stop.wait(until: .now + configuration.maximumBackoff)
                continue
            }
            configuration.resetState = startsAfresh(shard.name)
            let store = KafkaCheckpointStore(
                settings: store, checkpointID: group.checkpointKey(of: shard.name), consoleURL: shard.console.console.base,
                filters: shard.console.filters.map { "\($0.name)=\($0.value)" }, partition: partition,
                startAfresh: configuration.resetState, writes: configuration.storeWrites,
                sharedRead: sharedRead, sharedProducer: clients.stores
            )
            // The assignment's read of the state partition, or a fresh one after a failure.
            let stateGeneration = sharedRead != nil ? SharedThreatState.generation(of: read) : (clients.state?.freshGeneration() ?? 0)
            sharedRead = nil
            let outcome = await Result {
                try await ThreatpipeRuntime.follow(
                    configuration, session: session, store: .kafka(store), transactionalID: group.transactionalID(of: shard.name),
                    logger: logger, health: health, stop: stop, metricDimensions: [("shard", shard.name)],
                    sharedKafka: clients.sink, sharedState: clients.state.map { ($0, stateGeneration) }
                )
            }
            await store.close()
            guard case .failure(let error) = outcome else { return }
            if ThreatpipeRuntime.shardHandling(for: FailureKind.of(error)) == .stopProcess {
                logger.critical("fenced: another process runs this shard; stopping", metadata: ["error": "\(error)"])
                state.withLockedValue { if $0.fatal == nil { $0.fatal = error } }
                processStop.requestStop()
                return
            }
            PipelineMetrics.consecutiveFailures([("shard", shard.name)]).record(health.recordFailure(error))
            logger.critical("shard stopped by a failure; starting it again after a backoff", metadata: [
                "error": "\(error)", "next_start_in": "\(configuration.maximumBackoff)",
            ])
            await stop.wait(until: .now + configuration.maximumBackoff)
        }
    }
}
