import Blocking
import Kafka

extension ThreatpipeRuntime {
    /// The Kafka store's state topic (`meta.change`): it exists, has as many partitions as the checkpoint topic (a
    /// shard's state lives in its checkpoint partition), and is compacted (the newest entry per threat is kept).
    static func checkStateStore(_ check: CheckConfiguration) async -> [CheckLine] {
        guard let topic = check.stateTopic, let (checkpointTopic, properties) = check.checkpointTopic else { return [] }
        let probes = await performBlockingCall {
            (
                Result { () throws(KafkaError) in try KafkaClusterProbe.metadata(topic: topic, properties: properties, timeout: .seconds(5)) },
                try? KafkaClusterProbe.metadata(topic: checkpointTopic, properties: properties, timeout: .seconds(5)).partitions
            )
        }
        let name = "state topic \(topic)"
        switch probes.0 {
        case .success(let metadata):
            guard let partitions = metadata.partitions else {
                let error = KafkaError(code: .unknownTopicOrPartition, name: "UNKNOWN_TOPIC_OR_PART", message: "topic \(topic) does not exist")
                return [CheckLine(name: name, failure: error, detail: "does not exist: create it with cleanup.policy=compact and as many partitions as \(checkpointTopic), or run with --no-track-changes")]
            }
            if let wanted = probes.1, partitions < wanted {
                let error = ConfigurationError(description: "the state topic has fewer partitions than the checkpoint topic")
                return [CheckLine(name: name, failure: error, detail: "\(partitions) partitions, fewer than \(checkpointTopic)'s \(wanted): a shard's state lives in its checkpoint partition; give it \(wanted)")]
            }
            let policy = await performBlockingCall {
                (try? KafkaClusterProbe.topicConfiguration(topic: topic, key: "cleanup.policy", properties: properties, timeout: .seconds(5))) ?? .noAnswer
            }
            let compaction = compactionDetail(policy, whenDeleted: "entries are deleted by age and threats become unknown")
            return [CheckLine(name: name, detail: "present, \(partitions) partitions, \(compaction)")]
        case .failure(let error):
            return [CheckLine(name: name, failure: error, detail: "\(error)")]
        }
    }

    /// What `check` says of a topic's `cleanup.policy`; `whenDeleted` is what deletion by age costs that topic.
    static func compactionDetail(_ policy: KafkaClusterProbe.ConfigurationAnswer, whenDeleted: String) -> String {
        switch policy {
        case .value(let value) where value.contains("compact"): "compacted (cleanup.policy=\(value))"
        case .value(let value): "NOT compacted (cleanup.policy=\(value)): \(whenDeleted); set cleanup.policy=compact"
        case .notSet: "cleanup.policy is not set on this topic (so: delete): \(whenDeleted); set cleanup.policy=compact"
        case .noAnswer: "compaction unknown (the cluster did not answer DescribeConfigs)"
        }
    }
}
