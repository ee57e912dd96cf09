import Blocking
import Foundation
import Kafka
import Persistence
import SentinelOne

/// The shard list a group runs, as its members agree on it: every process starts with the list of its own
/// configuration file, but during a rolling change of that file old and new processes coexist, and each running the
/// shards of its own list for the partitions it holds ran some shards twice and others nowhere. So the list in force
/// travels the way Kafka Connect's connector configurations do, in a compacted topic: a process publishes its list
/// (``PublishedShardList``, in partition 0 of the checkpoint topic under ``key(group:)``) before it joins when that
/// list is not the one in force, and every process runs the newest published list's definitions for the partitions it
/// holds, reading it again at every change of its assignment (a member joining with a new list causes one). The newest
/// list is the last one published: in a rolling deploy, the last process started.
///
/// What a list holds is each shard's name, console URL, token file path (never a token) and filters: a process runs
/// another's shard with its own settings for everything else.
struct ShardList: Sendable, Equatable {
    /// One shard's definition.
    struct Shard: Codable, Sendable, Equatable {
        var name: String
        var console: String
        var apiTokenFile: String?
        /// `name=value`, the top-level filters first.
        var filters: [String]
    }

    var shards: [Shard]

    init(shards: [Shard]) {
        self.shards = shards
    }

    init(_ configurations: [ShardConfiguration]) {
        shards = configurations.map { shard in
            Shard(
                name: shard.name, console: shard.console.console.base, apiTokenFile: shard.console.apiTokenFile,
                filters: shard.console.filters.map { "\($0.name)=\($0.value)" }
            )
        }
    }

    /// A short digest of the definitions (FNV-1a over their canonical JSON, in name order): two lists with the same
    /// digest run the same shards the same way.
    var digest: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let canonical = (try? encoder.encode(shards.sorted { $0.name < $1.name })).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let high = ShardPlacement.fnv1a(canonical), low = ShardPlacement.fnv1a(String(canonical.reversed()))
        return String(format: "%08x%08x", high, low)
    }

    /// The shards as configurations: each on `template` (this process's settings for everything but the shard's
    /// console URL, token file and filters).
    func configurations(template: ConsoleConfiguration) throws -> [ShardConfiguration] {
        try shards.map { shard in
            var console = template
            console.console = try ConsoleURL(shard.console)
            console.apiTokenFile = shard.apiTokenFile
            console.filters = try QueryFilter.parse(shard.filters, catalog: .threats)
            return ShardConfiguration(name: shard.name, console: console)
        }
    }

    /// The key of a group's published list in the checkpoint topic. `:` is in no group or shard name, so no
    /// checkpoint key (`<group>/<shard>`) is ever the same.
    static func key(group: String) -> String { "threatpipe:shard-list:\(group)" }
}

/// A shard list as published: the list, when and by whom.
struct PublishedShardList: Codable, Sendable, Equatable {
    /// Microseconds since 1970 when it was published: the newest is in force.
    var version: Int64
    var digest: String
    /// `host/pid` of the process that published it.
    var publisher: String
    var shards: [ShardList.Shard]

    var list: ShardList { ShardList(shards: shards) }

    init(list: ShardList, version: Int64, publisher: String) {
        self.version = version
        self.digest = list.digest
        self.publisher = publisher
        self.shards = list.shards
    }
}

extension PublishedShardList {
    /// The newest list published for `group` in the checkpoint topic's partition 0; nil when none is (or it cannot
    /// be decoded: a list is then published again).
    static func read(group: String, settings: CompactedTopic.Settings) async throws -> PublishedShardList? {
        let key = Array(ShardList.key(group: group).utf8)
        return try await performBlockingCall {
            var newest: PublishedShardList?
            _ = try CompactedTopic.readToEnd(settings, partitions: [0]) { record in
                guard record.key == key, let value = record.value,
                    let list = try? JSONDecoder().decode(PublishedShardList.self, from: Data(value))
                else { return }
                if newest.map({ $0.version <= list.version }) ?? true { newest = list }
            }
            return newest
        }
    }

    /// Publishes this list for `group` and waits until the cluster has it, on a producer of its own (the compacted
    /// topic's one write path).
    func publish(group: String, settings: CompactedTopic.Settings) async throws {
        let value = Array(try JSONEncoder().encode(self))
        let topic = CompactedTopic(settings)
        defer { Task { await topic.close(flushTimeout: .zero) } }
        do throws(KafkaError) {
            try await topic.write([(ShardList.key(group: group), value)], partition: 0, what: "the shard list")
        } catch {
            throw KafkaCheckpointStoreError(topic: settings.topic, underlying: error)
        }
    }
}
