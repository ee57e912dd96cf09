import Emulator
import Kafka
import Logging
import Persistence
import Pipeline
import RawJSON
@testable import Runtime
import SentinelOne
import Sinks
import TestSupport
import Testing

/// `ShardGroup`'s assignment handling, driven change by change without a consumer group: an assignment starts the
/// shards its partitions carry (once), a revocation returns only after those shards stopped, the console's budget
/// is split by the shares held, and `stopAll` starts nothing more.
@Suite(.serialized) struct ShardGroupTests {
    @Test(.timeLimit(.minutes(2))) func assignmentsStartShardsRevocationsStopThemAndTheBudgetFollows() async throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic("threats", partitions: 1, replicationFactor: 1)
        try cluster.createTopic("threatpipe.checkpoints", partitions: 4, replicationFactor: 1)
        let emulator = try await RunningEmulator.start(threats: 8)
        var console = ConsoleConfiguration(console: try ConsoleURL(emulator.url))
        console.environment = ["S1_API_TOKEN": emulator.token]
        console.rateLimit = 40
        let shards = (1...8).map { index in
            var shard = console
            shard.filters = [QueryFilter(name: "siteIds", value: "site-\(index)")]
            return ShardConfiguration(name: "shard-\(index)", console: shard)
        }
        var template = RunConfiguration(
            console: console,
            sinks: SinksConfiguration(sinks: [.kafka(KafkaSinkConfiguration(brokers: cluster.bootstrapServers, topic: "threats"))]),
            initialSince: RFC3339Timestamp("2020-01-01T00:00:00Z")!
        )
        template.interval = .seconds(1)
        let settings = KafkaCheckpointStore.Settings(properties: [("bootstrap.servers", cluster.bootstrapServers)], topic: "threatpipe.checkpoints")
        template.checkpointStore = .kafka(settings)
        var logger = Logger(label: "test.shards")
        logger.logLevel = .error
        let session = try ConsoleSession(configuration: console, logger: logger)
        let group = ShardGroup(
            group: GroupConfiguration(name: "unit", shards: shards), template: template, store: settings, partitionCount: 4,
            sessions: [console.console.base: session], clients: .init(checkpoints: nil, sink: nil), processStop: StopSignal(),
            logger: logger
        )
        func names(in partitions: Set<Int32>) -> [String] { group.shards(in: partitions).map(\.0.name).sorted() }
        let first: Set<Int32> = [0, 1]
        let second: Set<Int32> = [2, 3]
        #expect(!names(in: first).isEmpty && !names(in: second).isEmpty, "the eight names spread over both halves")

        await group.apply(.assigned(first))
        #expect(group.heldNames == names(in: first))
        #expect(session.rateLimiter.requestsPerSecond == ShardPlacement.rateShare(budget: 40, held: names(in: first).count, total: 8))

        // The same partitions again (a cooperative rebalance repeats them): nothing starts twice.
        await group.apply(.assigned(first.union(second)))
        #expect(group.heldNames == names(in: [0, 1, 2, 3]))
        #expect(session.rateLimiter.requestsPerSecond == 40)

        await group.apply(.revoked(first, lost: false))
        #expect(group.heldNames == names(in: second))
        #expect(session.rateLimiter.requestsPerSecond == ShardPlacement.rateShare(budget: 40, held: names(in: second).count, total: 8))

        await group.stopAll()
        #expect(group.heldNames.isEmpty)
        await group.apply(.assigned(first))
        #expect(group.heldNames.isEmpty, "a stopping process starts no shard")
        await session.shutdown()
        await emulator.stop()
        withExtendedLifetime(cluster) {}
    }
}
