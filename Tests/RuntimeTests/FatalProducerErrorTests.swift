import Emulator
import Foundation
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

/// At least once, a fatal producer error (librdkafka's idempotence guarantee broken, forced with
/// `rd_kafka_test_fatal_error()` on every producer of the run) replaces every producer — the sink's, the checkpoint
/// store's and the state store's, and a group's shared ones (the sink's, and one for both stores' topics) — and the records no dead producer delivered go out again
/// from the checkpoint: every final version arrives, and the checkpoint goes on moving. In process against
/// librdkafka's mock cluster; the run's topics have names of their own, so no other suite's producer is touched.
@Suite(.serialized) struct FatalProducerErrorTests {
    static let topics = (records: "fatal-threats", checkpoints: "fatal.checkpoints", state: "fatal.state")

    struct Fixture {
        let cluster: KafkaMockCluster
        let emulator: RunningEmulator
        var configuration: RunConfiguration

        static func start() async throws -> Fixture {
            let cluster = try KafkaMockCluster(brokers: 1)
            for topic in [topics.records, topics.checkpoints, topics.state] {
                try cluster.createTopic(topic, partitions: 4, replicationFactor: 1)
            }
            let emulator = try await RunningEmulator.start(threats: 60, addedPerSecond: 2, updatedPerSecond: 10)
            var console = ConsoleConfiguration(console: try ConsoleURL(emulator.url))
            console.environment = ["S1_API_TOKEN": emulator.token]
            console.rateLimit = 0
            console.pageSize = 7
            var configuration = RunConfiguration(
                console: console,
                sinks: SinksConfiguration(sinks: [.kafka(KafkaSinkSettings(brokers: cluster.bootstrapServers, topic: topics.records))]),
                initialSince: RFC3339Timestamp("2020-01-01T00:00:00Z")!
            )
            configuration.interval = .milliseconds(200)
            configuration.checkpointStore = .kafka(CheckpointTopicSettings(
                properties: [("bootstrap.servers", cluster.bootstrapServers)], topic: topics.checkpoints
            ))
            configuration.changes?.stateTopic = topics.state
            configuration.instanceID = "fatal-test"
            return Fixture(cluster: cluster, emulator: emulator, configuration: configuration)
        }

        /// Raises the fatal error on the run's producers once records flow, lets the console change on, then freezes
        /// it and waits until it has been read whole twice more.
        /// With `sites` (a group's shards), the passes are counted per site: every shard must make them, not the
        /// fastest one for all.
        func forceFatalErrorsWhileRunning(sites: [String]? = nil) async throws -> Int {
            // Past the first checkpoint save (a second in) and state saves: every producer of the run exists.
            await emulator.api.waitForListPasses(atLeast: 10)
            let raised = KafkaFaultInjection.forceFatalError { $0.hasPrefix("fatal") }
            await waitForMorePasses(4, sites: sites)
            emulator.api.freeze()
            await waitForMorePasses(3, sites: sites)
            return raised
        }

        /// Waits for `count` more list passes (of each of `sites`, when given) than have begun so far.
        func waitForMorePasses(_ count: Int, sites: [String]?) async {
            let counts = emulator.api.requestCounts
            guard let sites else { return await emulator.api.waitForListPasses(atLeast: counts.firstPages + count) }
            let most = sites.map { counts.firstPagesBySite[$0, default: 0] }.max() ?? 0
            await emulator.api.waitForListPasses(atLeast: most + count, ofEachSite: sites)
        }

        /// The final version of every threat the console holds, and what the records' topic holds.
        func expectEveryFinalVersionDelivered(shardSites: Set<String>? = nil) throws {
            var delivered = Set<ServedVersion>()
            _ = try KafkaTopicReader.readToEnd(
                topic: topics.records, properties: [("bootstrap.servers", cluster.bootstrapServers)], timeout: .seconds(10)
            ) { record in
                let value = try JSONValue.parse(record.value ?? [])
                if let id = value["threat"]?["id"]?.stringValue, let updatedAt = value["threat"]?["threatInfo"]?["updatedAt"]?.stringValue {
                    delivered.insert(ServedVersion(id: id, updatedAt: updatedAt))
                }
            }
            let dataset = emulator.api.dataset
            let missing = (0..<dataset.count).filter { index in
                if let shardSites, !shardSites.contains(dataset.siteID(at: index)) { return false }
                return !delivered.contains(ServedVersion(id: dataset.id(at: index), updatedAt: emulator.api.updatedAt(at: index).description))
            }
            #expect(missing.isEmpty, "\(missing.count) threats lack their final version after the fatal error")
        }
    }

    static var logger: Logger {
        var logger = Logger(label: "test.fatal")
        logger.logLevel = .critical
        return logger
    }

    @Test(.timeLimit(.minutes(3))) func aRunReplacesEveryProducerAndLosesNothing() async throws {
        let fixture = try await Fixture.start()
        let stop = StopSignal()
        let (configuration, logger) = (fixture.configuration, Self.logger)
        let run = Task { try await ThreatpipeRuntime.run(configuration, logger: logger, stop: stop) }
        let raised = try await fixture.forceFatalErrorsWhileRunning()
        stop.requestStop()
        _ = try await run.value
        // The sink's producer, the checkpoint store's and the state store's.
        #expect(raised == 3, "fatal errors raised on \(raised) producers")
        try fixture.expectEveryFinalVersionDelivered()
        // The checkpoint store's new producer saved the checkpoint the last poll reached: the newest version.
        let store = KafkaCheckpointStore(
            settings: .init(properties: [("bootstrap.servers", fixture.cluster.bootstrapServers)], topic: Self.topics.checkpoints),
            checkpointID: "fatal-test", consoleURL: fixture.emulator.url, filters: []
        )
        let checkpoint = try #require(try await store.load())
        let dataset = fixture.emulator.api.dataset
        let newest = (0..<dataset.count).map { fixture.emulator.api.updatedAt(at: $0) }.max()!
        #expect(checkpoint.updatedAt == newest.description, "the checkpoint stopped moving at the fatal error")
        await fixture.emulator.stop()
    }

    @Test(.timeLimit(.minutes(3))) func aGroupReplacesItsSharedProducersAndLosesNothing() async throws {
        var fixture = try await Fixture.start()
        let sites = Array(ThreatDataset.siteIDs.prefix(2))
        let shards = sites.enumerated().map { index, site in
            var console = fixture.configuration.console
            console.filters = [QueryFilter(name: "siteIds", value: site)]
            return ShardConfiguration(name: "site-\(index + 1)", console: console)
        }
        fixture.configuration.instanceID = nil
        var group = GroupConfiguration(name: "fatal", shards: shards)
        group.sessionTimeout = .seconds(3)
        let stop = StopSignal()
        let (configuration, logger) = (fixture.configuration, Self.logger)
        let run = Task { [group] in try await ThreatpipeRuntime.runGroup(configuration, group: group, logger: logger, stop: stop) }
        let raised = try await fixture.forceFatalErrorsWhileRunning(sites: sites)
        stop.requestStop()
        _ = try await run.value
        // The shared sink producer, and the one producer of the checkpoint and state topics.
        #expect(raised == 2, "fatal errors raised on \(raised) producers")
        try fixture.expectEveryFinalVersionDelivered(shardSites: Set(sites))
        await fixture.emulator.stop()
    }
}
