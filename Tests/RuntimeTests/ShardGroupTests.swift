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
        var fixture = try await GroupFixture.start(threats: 8, threatPartitions: 1, rateLimit: 40)
        let (cluster, emulator, console, settings) = (fixture.cluster, fixture.emulator, fixture.console, fixture.settings)
        let shards = fixture.shards((1...8).map { ("shard-\($0)", "site-\($0)") })
        fixture.template.interval = .seconds(1)
        let template = fixture.template
        var logger = Logger(label: "test.shards")
        logger.logLevel = .error
        let session = try ConsoleSession(configuration: console, logger: logger)
        let group = ShardGroup(
            group: GroupConfiguration(name: "unit", shards: shards), template: template, store: settings, partitionCount: 4,
            sessions: [console.console.base: session], clients: .init(stores: nil, sink: nil), processStop: StopSignal(),
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

    /// `--reset-state` in a group resets each shard once per process: at its first start, not when it starts again
    /// after a failure or comes back in a later assignment (each of those reset it again, and its state with it).
    @Test(.timeLimit(.minutes(1))) func resetStateAppliesToEachShardsFirstStartOnly() async throws {
        var fixture = try await GroupFixture.start(threats: 1, threatPartitions: 1, rateLimit: 40)
        fixture.template.resetState = true
        var logger = Logger(label: "test.shards")
        logger.logLevel = .error
        let group = ShardGroup(
            group: GroupConfiguration(name: "unit", shards: fixture.shards([("a", "site-1"), ("b", "site-2")])), template: fixture.template,
            store: fixture.settings, partitionCount: 4, sessions: [:], clients: .init(stores: nil, sink: nil), processStop: StopSignal(),
            logger: logger
        )
        #expect(group.startsAfresh("a"))
        #expect(!group.startsAfresh("a"), "a restart of the same shard keeps what the first start reset")
        #expect(group.startsAfresh("b"))
        fixture.template.resetState = false
        let plain = ShardGroup(
            group: GroupConfiguration(name: "unit", shards: fixture.shards([("a", "site-1")])), template: fixture.template,
            store: fixture.settings, partitionCount: 4, sessions: [:], clients: .init(stores: nil, sink: nil), processStop: StopSignal(),
            logger: logger
        )
        #expect(!plain.startsAfresh("a"))
        await fixture.emulator.stop()
        withExtendedLifetime(fixture.cluster) {}
    }
}
