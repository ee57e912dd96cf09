/// Where a shard lives and what share of its console's request budget a process gets: pure functions, the same in
/// every process of a group.
public enum ShardPlacement {
    /// The checkpoint-topic partition that carries a shard: FNV-1a (32 bits) of its name's UTF-8 bytes, modulo the
    /// partition count. Whoever is assigned that partition runs the shard, and its checkpoint record is written
    /// there — the shard's state travels with it, as a Kafka Streams task's does.
    public static func partition(of name: String, partitions: Int) -> Int32 {
        precondition(partitions > 0, "a topic has at least one partition")
        return Int32(fnv1a(name) % UInt32(partitions))
    }

    /// FNV-1a, 32 bits, of `text`'s UTF-8 bytes: the same in every process and every release (unlike `hashValue`).
    static func fnv1a(_ text: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return hash
    }

    /// The request rate a process may use for one console: the console's budget times the share of its shards
    /// the process holds (`held` of `total`). The shards a process holds of one console share one bucket; over k
    /// processes the shares add up to the budget. 0 when it holds none (no requests then).
    public static func rateShare(budget: Double, held: Int, total: Int) -> Double {
        guard total > 0, held > 0, budget > 0 else { return 0 }
        return budget * Double(min(held, total)) / Double(total)
    }
}
