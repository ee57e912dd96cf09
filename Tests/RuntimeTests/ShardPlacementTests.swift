import Runtime
import SentinelOne
import Testing

/// Where a shard lives and what share of the console's budget a process gets: the same answers in every process.
struct ShardPlacementTests {
    @Test func aShardsPartitionIsFNV1aOfItsNameModuloThePartitionCount() {
        // FNV-1a (32 bits) of "a" is 0xe40c292c; of "" the offset basis 0x811c9dc5.
        #expect(ShardPlacement.partition(of: "a", partitions: 1_000_000_007) == Int32(0xe40c_292c % 1_000_000_007))
        #expect(ShardPlacement.partition(of: "", partitions: 7) == Int32(0x811c_9dc5 % 7))
        #expect(ShardPlacement.partition(of: "emea-site-1", partitions: 1) == 0)
    }

    @Test func partitionsAreStableInRangeAndSpreadOverManyShards() {
        let names = (0..<600).map { "site-\($0)" }
        for partitions in [1, 3, 6, 12] {
            let placed = names.map { ShardPlacement.partition(of: $0, partitions: partitions) }
            #expect(placed.allSatisfy { (0..<Int32(partitions)).contains($0) })
            #expect(placed == names.map { ShardPlacement.partition(of: $0, partitions: partitions) })
            let counts = Dictionary(grouping: placed, by: { $0 }).mapValues(\.count)
            #expect(counts.count == partitions)
            // Within a factor of two of an even spread.
            #expect(counts.values.allSatisfy { $0 > 600 / partitions / 2 && $0 < 600 / partitions * 2 }, "\(counts)")
        }
    }

    @Test func aProcessGetsItsShareOfTheConsolesBudget() {
        #expect(ShardPlacement.rateShare(budget: 10, held: 6, total: 6) == 10)
        #expect(ShardPlacement.rateShare(budget: 10, held: 2, total: 6) == 10.0 * 2 / 6)
        #expect(ShardPlacement.rateShare(budget: 9, held: 1, total: 3) == 3)
        #expect(ShardPlacement.rateShare(budget: 10, held: 0, total: 6) == 0)
        #expect(ShardPlacement.rateShare(budget: 0, held: 3, total: 6) == 0)
        // Spread over k processes the shares add up to the budget.
        let spread = [2, 1, 3].map { ShardPlacement.rateShare(budget: 25, held: $0, total: 6) }.reduce(0, +)
        #expect(abs(spread - 25) < 1e-9)
    }

    @Test func aGroupRefusesUnusableOrRepeatedShardNames() throws {
        let console = ConsoleConfiguration(console: try ConsoleURL("https://usea1.sentinelone.net"))
        var group = GroupConfiguration(name: "soc", shards: [.init(name: "a", console: console), .init(name: "b", console: console)])
        try group.check()
        #expect(group.transactionalID(of: "a") == "threatpipe-soc/a")
        #expect(group.checkpointKey(of: "a") == "soc/a")
        // Names with '-' never make the same id for two (group, shard) pairs.
        #expect(GroupConfiguration(name: "a-b", shards: []).transactionalID(of: "c") != GroupConfiguration(name: "a", shards: []).transactionalID(of: "b-c"))
        #expect(group.consumerGroupID == "threatpipe-soc")
        group.shards.append(.init(name: "a", console: console))
        #expect(throws: ConfigurationError.self) { try group.check() }
        group.shards = [.init(name: "no spaces", console: console)]
        #expect(throws: ConfigurationError.self) { try group.check() }
        group.shards = []
        #expect(throws: ConfigurationError.self) { try group.check() }
        var managed = console
        managed.filters = [QueryFilter(name: "updatedAt__gte", value: "2020-01-01T00:00:00Z")]
        group.shards = [.init(name: "a", console: managed)]
        #expect(throws: ConfigurationError.self) { try group.check() }
    }
}
