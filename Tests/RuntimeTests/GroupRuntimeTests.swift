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
import Observability

/// `ThreatpipeRuntime.runGroup` in process against the emulator and librdkafka's mock cluster: one process of a
/// group holds every shard, delivers each shard's threats once with each shard's checkpoint in its partition, and a
/// stop drains and leaves. (In process, so the ThreadSanitizer pass sees the coordinator and the member's thread.)
@Suite(.serialized) struct GroupRuntimeTests {
    @Test(.timeLimit(.minutes(2))) func oneProcessHoldsEveryShardAndCheckpointsEachInItsPartition() async throws {
        var fixture = try await GroupFixture.start(threats: 36, threatPartitions: 2, rateLimit: 30)
        let (cluster, emulator, settings) = (fixture.cluster, fixture.emulator, fixture.settings)
        let sites = Array(ThreatDataset.siteIDs.prefix(3))
        let shards = fixture.shards(sites.enumerated().map { ("site-\($0.offset + 1)", $0.element) })
        fixture.template.interval = .milliseconds(300)
        fixture.template.delivery = .exactlyOnce
        let configuration = fixture.template
        var group = GroupConfiguration(name: "inproc", shards: shards)
        group.sessionTimeout = .seconds(3)
        var logger = Logger(label: "test.group")
        logger.logLevel = .error
        let status = GroupStatus()
        let stop = StopSignal()
        let run = Task { [configuration, group, logger] in
            try await ThreatpipeRuntime.runGroup(configuration, group: group, logger: logger, status: status, stop: stop)
        }
        // Every shard lists twice: all three started and each finished its first pass (a count over all shards let a
        // fast shard's polls stand for a slow one's, and the stop came in the slow one's first pass).
        await emulator.api.waitForListPasses(atLeast: 2, ofEachSite: sites)
        let state = status.state
        #expect(state.detail.hasPrefix("shards: site-1,site-2,site-3"), "\(state)")
        stop.requestStop()
        let closing = try await run.value
        #expect(closing.contains("left group inproc"))
        await emulator.stop()

        // Each shard's checkpoint is in its partition, and each site's threats arrived.
        for shard in shards {
            let partition = ShardPlacement.partition(of: shard.name, partitions: 4)
            let store = KafkaCheckpointStore(
                settings: settings, checkpointID: "inproc/\(shard.name)", consoleURL: emulator.url,
                filters: shard.console.filters.map { "\($0.name)=\($0.value)" }, partition: partition
            )
            #expect(try await store.load() != nil, "\(shard.name): no checkpoint in partition \(partition)")
        }
        var sitesDelivered: [String: Int] = [:]
        _ = try KafkaTopicReader.readToEnd(topic: "threats", properties: [("bootstrap.servers", cluster.bootstrapServers)], timeout: .seconds(10)) { record in
            let value = try JSONValue.parse(record.value ?? [])
            let site = value["threat"]?["agentDetectionInfo"]?["siteId"]?.stringValue ?? "none"
            sitesDelivered[site, default: 0] += 1
        }
        let dataset = emulator.api.dataset
        let expected = Dictionary(grouping: (0..<dataset.count).map { dataset.siteID(at: $0) }.filter(sites.contains), by: { $0 }).mapValues(\.count)
        #expect(sitesDelivered == expected)
    }
}
