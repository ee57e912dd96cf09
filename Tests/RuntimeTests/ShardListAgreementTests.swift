import Emulator
import Foundation
import Kafka
import Logging
import Persistence
import Pipeline
@testable import Runtime
import SentinelOne
import TestSupport
import Testing
import Observability

/// Members of one group started with different shard lists — a rolling change of the shards file — agree on the
/// newest published list: every shard of it runs in exactly one process, none is run by nobody, and a member whose
/// own file differs says so. In process, two members of one group against librdkafka's mock cluster.
@Suite(.serialized) struct ShardListAgreementTests {
    /// Names of the shards a member runs, from its `/readyz` detail.
    static func held(_ status: GroupStatus) -> Set<String> {
        let first = status.state.detail.split(separator: "\n").first.map(String.init) ?? ""
        guard first.hasPrefix("shards: "), first != "shards: none" else { return [] }
        return Set(first.dropFirst("shards: ".count).split(separator: ",").map(String.init))
    }

    @Test func aListsDigestFollowsItsDefinitionsNotTheirOrder() throws {
        let a = ShardList.Shard(name: "a", console: "https://x.example", apiTokenFile: nil, filters: ["siteIds=1"])
        let b = ShardList.Shard(name: "b", console: "https://x.example", apiTokenFile: "/run/t", filters: [])
        #expect(ShardList(shards: [a, b]).digest == ShardList(shards: [b, a]).digest)
        var changed = b
        changed.filters = ["siteIds=2"]
        #expect(ShardList(shards: [a, b]).digest != ShardList(shards: [a, changed]).digest)
        let published = PublishedShardList(list: ShardList(shards: [a, b]), version: 7, publisher: "host/1")
        let decoded = try JSONDecoder().decode(PublishedShardList.self, from: JSONEncoder().encode(published))
        #expect(decoded == published)
    }

    @Test(.timeLimit(.minutes(3))) func membersWithDifferentListsRunTheNewestOneAndNoShardIsRunByNobody() async throws {
        var fixture = try await GroupFixture.start(threats: 40, threatPartitions: 2, rateLimit: 0)
        fixture.template.interval = .milliseconds(300)
        let sites = ThreatDataset.siteIDs
        let old = fixture.shards([("a", sites[0]), ("b", sites[1 % sites.count])])
        // The new file adds shards over every partition of the checkpoint topic (4): whichever partitions the first
        // member keeps, some of the new shards live there — and it does not know them from its own file.
        var added: [(name: String, siteIDs: String)] = []
        var covered = Set<Int32>()
        for index in 0..<100 where covered.count < 4 {
            let name = "new-\(index)"
            if covered.insert(ShardPlacement.partition(of: name, partitions: 4)).inserted {
                added.append((name, sites[index % sites.count]))
            }
        }
        let new = old + fixture.shards(added)
        let expected = Set(new.map(\.name))
        var logger = Logger(label: "test.agreement")
        logger.logLevel = .critical
        let configuration = fixture.template
        func member(_ shards: [ShardConfiguration], _ status: GroupStatus, _ stop: StopSignal) -> Task<String, any Error> {
            var group = GroupConfiguration(name: "agree", shards: shards)
            group.sessionTimeout = .seconds(3)
            return Task { [group, logger] in
                try await ThreatpipeRuntime.runGroup(configuration, group: group, logger: logger, status: status, stop: stop)
            }
        }
        let (statusA, stopA) = (GroupStatus(), StopSignal())
        let first = member(old, statusA, stopA)
        await fixture.emulator.api.waitForListPasses(atLeast: 2 * old.count)
        #expect(Self.held(statusA) == Set(old.map(\.name)))
        let (statusB, stopB) = (GroupStatus(), StopSignal())
        let second = member(new, statusB, stopB)
        // Until the rebalances settle: every shard of the newest list runs, each in one member.
        var agreed = false
        for _ in 0..<60 {
            await fixture.emulator.api.waitForListPasses(atLeast: fixture.emulator.api.requestCounts.firstPages + 2)
            let (a, b) = (Self.held(statusA), Self.held(statusB))
            if a.union(b) == expected, a.isDisjoint(with: b), !a.isEmpty, !b.isEmpty { agreed = true; break }
        }
        let (a, b) = (Self.held(statusA), Self.held(statusB))
        #expect(agreed, "first runs \(a.sorted()), second \(b.sorted()); the newest list has \(expected.sorted())")
        #expect(statusA.state.detail.contains("this process's file differs"), "\(statusA.state.detail)")
        #expect(!statusB.state.detail.contains("differs"), "\(statusB.state.detail)")
        stopB.requestStop()
        stopA.requestStop()
        _ = try await second.value
        _ = try await first.value
        await fixture.emulator.stop()
        withExtendedLifetime(fixture.cluster) {}
    }
}
