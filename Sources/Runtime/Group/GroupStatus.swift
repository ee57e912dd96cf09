import NIOConcurrencyHelpers
import Observability
import Pipeline

/// What `/readyz` says of a group process: not ready while joining, while a shard it holds fails, or until every
/// shard it holds has completed a poll (a process holding a thousand shards is not ready because it joined); the
/// shards it holds, one line.
public final class GroupStatus: Sendable {
    private let group = NIOLockedValueBox<ShardGroup?>(nil)

    public init() {}

    func attach(_ shards: ShardGroup) { group.withLockedValue { $0 = shards } }

    /// Up to ten names, then how many more.
    static func names(_ workers: [ShardGroup.Worker]) -> String {
        let shown = workers.prefix(10).map(\.shard.name).joined(separator: ",")
        return workers.count > 10 ? "\(shown) and \(workers.count - 10) more" : shown
    }

    /// The readiness answer.
    public var state: Readiness.State {
        guard let shards = group.withLockedValue({ $0 }) else { return .init(isReady: false, reason: "joining the group") }
        return shards.state.withLockedValue { state in
            guard state.joined else { return .init(isReady: false, reason: "joining the group") }
            let workers = state.workers.values.sorted { $0.shard.name < $1.shard.name }
            let failing = workers.filter { !$0.health.state.isHealthy }
            let unpolled = workers.filter { $0.health.state.isHealthy && $0.health.state.successfulPolls == 0 }
            let detail = (["shards: " + (workers.isEmpty ? "none" : workers.map(\.shard.name).joined(separator: ",")), shards.agreementDetail]
                + failing.map { "shard \($0.shard.name) failing: \($0.health.state.lastError ?? "")" }).joined(separator: "\n")
            var reasons: [String] = []
            if !failing.isEmpty { reasons.append("shards failing: \(Self.names(failing))") }
            if !unpolled.isEmpty { reasons.append("shards not yet polled: \(Self.names(unpolled))") }
            return .init(isReady: reasons.isEmpty, reason: reasons.joined(separator: "; "), detail: detail)
        }
    }
}
