import Emulator
import Kafka
import Persistence
import RawJSON
@testable import Runtime
import SentinelOne
import Sinks
import TestSupport

/// What the in-process group tests stand on: librdkafka's mock cluster (a `threats` topic and a checkpoint topic of
/// four partitions), the emulator, its console, and a run configuration delivering to Kafka with the Kafka store.
struct GroupFixture {
    let cluster: KafkaMockCluster
    let emulator: RunningEmulator
    let console: ConsoleConfiguration
    var template: RunConfiguration
    let settings: CompactedTopic.Settings

    static func start(threats: Int, threatPartitions: Int, rateLimit: Double) async throws -> GroupFixture {
        let cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic("threats", partitions: threatPartitions, replicationFactor: 1)
        try cluster.createTopic("threatpipe.checkpoints", partitions: 4, replicationFactor: 1)
        try cluster.createTopic("threatpipe.threat-state", partitions: 4, replicationFactor: 1)
        let emulator = try await RunningEmulator.start(threats: threats)
        var console = ConsoleConfiguration(console: try ConsoleURL(emulator.url))
        console.environment = ["S1_API_TOKEN": emulator.token]
        console.rateLimit = rateLimit
        var template = RunConfiguration(
            console: console,
            sinks: SinksConfiguration(sinks: [.kafka(KafkaSinkSettings(brokers: cluster.bootstrapServers, topic: "threats"))]),
            initialSince: RFC3339Timestamp("2020-01-01T00:00:00Z")!
        )
        let settings = CompactedTopic.Settings(properties: [("bootstrap.servers", cluster.bootstrapServers)], topic: "threatpipe.checkpoints")
        template.checkpointStore = .kafka(CheckpointTopicSettings(properties: settings.properties, topic: settings.topic))
        return GroupFixture(cluster: cluster, emulator: emulator, console: console, template: template, settings: settings)
    }

    /// Shards of the console, each with one filter.
    func shards(_ filters: [(name: String, siteIDs: String)]) -> [ShardConfiguration] {
        filters.map { name, site in
            var shard = console
            shard.filters = [QueryFilter(name: "siteIds", value: site)]
            return ShardConfiguration(name: name, console: shard)
        }
    }
}
