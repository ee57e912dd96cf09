import NIOConcurrencyHelpers
import Observability

/// What `/readyz` says of a group process: not ready while joining or while a shard it holds fails; the shards it
/// holds, one line.
public final class GroupStatus: Sendable {
    private let group = NIOLockedValueBox<ShardGroup?>(nil)

    public init() {}

    func attach(_ shards: ShardGroup) { group.withLockedValue { $0 = shards } }

    /// The readiness answer.
    public var state: Readiness.State {
        guard let shards = group.withLockedValue({ $0 }) else { return .init(isReady: false, reason: "joining the group") }
        return shards.state.withLockedValue { state in
            guard state.joined else { return .init(isReady: false, reason: "joining the group") }
            let workers = state.workers.values.sorted { $0.shard.name < $1.shard.name }
            let failing = workers.filter { !$0.health.state.isHealthy }
            let detail = (["shards: " + (workers.isEmpty ? "none" : workers.map(\.shard.name).joined(separator: ","))]
                + failing.map { "shard \($0.shard.name) failing: \($0.health.state.lastError ?? "")" }).joined(separator: "\n")
            return .init(
                isReady: failing.isEmpty,
                reason: failing.isEmpty ? "" : "shards failing: \(failing.map(\.shard.name).joined(separator: ","))",
                detail: detail
            )
        }
    }
}
