import Logging
import Persistence
import Pipeline

extension ThreatpipeRuntime {
    /// Sets up the Kafka store's topics before anything reads or writes them (``InternalTopics``): a missing one is
    /// created, one that cannot work stops the run (exit 64), a warning is logged for one that is not compacted.
    /// While the cluster cannot be asked, tries again with backoff until `stop` (nil: throws at once, as a group's
    /// start does). Returns the checkpoint topic's partition count; nil for a file store or when stopped first.
    static func prepareTopics(
        _ configuration: RunConfiguration, shards: Int, logger: Logger, stop: StopSignal?
    ) async throws -> Int? {
        guard case .kafka(let settings) = configuration.checkpointStore else { return nil }
        let topics = settings.internalTopics(stateTopic: configuration.changes?.stateTopic, shards: shards)
        var backoff = Duration.seconds(1)
        while true {
            do {
                let partitions = try await topics.prepare(created: { topic, partitions in
                    logger.notice("topic created", metadata: [
                        "topic": "\(topic)", "partitions": "\(partitions)", "cleanup_policy": "compact",
                    ])
                })
                // Compaction is a warning, asked for apart: a cluster that does not answer DescribeConfigs must not
                // hold up the start for its timeout.
                Task { for warning in await topics.compactionWarnings() { logger.warning("\(warning)") } }
                return partitions
            } catch where FailureKind.of(error) == .unavailable && stop != nil {
                logger.warning("the Kafka store's topics could not be checked; trying again", metadata: [
                    "error": "\(error)", "retry_in_s": "\(backoff.components.seconds)",
                ])
                guard await stop!.sleep(until: .now + backoff) else { return nil }
                backoff = min(backoff * 2, configuration.maximumBackoff)
            }
        }
    }
}
