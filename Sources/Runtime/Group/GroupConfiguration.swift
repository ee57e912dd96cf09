/// `run --group`: the processes started with the same group name and shard list share the shards through a Kafka
/// consumer group on the checkpoint topic.
public struct GroupConfiguration: Sendable {
    /// The group's name: the consumer group is `threatpipe-<name>`, a shard's checkpoint key `<name>/<shard>` and its
    /// transactional id `threatpipe-<name>/<shard>`.
    public var name: String
    public var shards: [ShardConfiguration]
    /// How long the group waits for a silent member (killed, partitioned off) before moving its shards.
    public var sessionTimeout: Duration = .seconds(10)

    public init(name: String, shards: [ShardConfiguration]) {
        self.name = name
        self.shards = shards
    }

    /// The consumer group's id.
    public var consumerGroupID: String { "threatpipe-\(name)" }

    /// The key of a shard's checkpoint record: the group's name and the shard's, so that groups sharing a checkpoint
    /// topic and shard names never take each other's checkpoints. `/` is in neither name, so no two pairs collide.
    public func checkpointKey(of shard: String) -> String { "\(name)/\(shard)" }

    /// The transactional id of a shard's producer (exactly once): a process that lost the shard is fenced by it.
    /// Unambiguous for the same reason (with `-` between them, group `a-b` and shard `c` would fence group `a` and
    /// shard `b-c`).
    public func transactionalID(of shard: String) -> String { "threatpipe-\(checkpointKey(of: shard))" }

    /// Throws when the name or a shard is unusable, or two shards share a name.
    public func check() throws {
        guard ShardConfiguration.isUsableName(name) else {
            throw ConfigurationError(description: "--group '\(name)': use 1…100 characters of A-Z a-z 0-9 . _ -")
        }
        guard !shards.isEmpty else {
            throw ConfigurationError(description: "--group needs shards: list them under 'shards:' in the --config file")
        }
        var seen = Set<String>()
        for shard in shards {
            try shard.check()
            guard seen.insert(shard.name).inserted else {
                throw ConfigurationError(description: "shard name '\(shard.name)' is used twice")
            }
        }
        guard (1...300).contains(sessionTimeout.components.seconds) else {
            throw ConfigurationError(description: "--group-session-timeout is 1s…300s")
        }
    }
}
