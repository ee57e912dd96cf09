import CoreMetrics
import Logging
import Persistence
import NIOConcurrencyHelpers
import Pipeline

extension ShardGroup {
    /// Reads the published list again; when a newer one is in force, adopts it: a running shard whose definition
    /// changed, or that the list no longer has, is stopped (drained, its checkpoint saved) — its new definition, if
    /// any, starts with the partitions held. A list that cannot be read or used leaves the one in force.
    func refreshList() async {
        let published: PublishedShardList?
        do {
            published = try await PublishedShardList.read(group: group.name, settings: store)
        } catch {
            logger.warning("the group's shard list could not be read; the one in force stays", metadata: ["error": "\(error)"])
            return
        }
        let current = inForce.withLockedValue { $0 }
        guard let published, published.digest != current.list.digest else { return }
        let shards: [ShardConfiguration]
        do {
            shards = try published.list.configurations(template: template.console)
        } catch {
            logger.error("the group's shard list in force cannot be used by this process; the one it runs stays", metadata: [
                "error": "\(error)", "in_force_digest": "\(published.digest)", "published_by": "\(published.publisher)",
            ])
            return
        }
        inForce.withLockedValue { $0 = InForce(list: published.list, shards: shards, publisher: published.publisher) }
        let definitions = Dictionary(published.shards.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let stopping = state.withLockedValue { state -> [Worker] in
            let changed = state.workers.values.filter { definitions[$0.shard.name] != ShardList([$0.shard]).shards.first }
            for worker in changed { state.workers[worker.shard.name] = nil }
            return changed
        }
        for worker in stopping { worker.stop.requestStop() }
        for worker in stopping { await worker.task.value }
        logger.notice("the group's shard list changed; running the one in force", metadata: [
            "in_force_digest": "\(published.digest)", "published_by": "\(published.publisher)", "shards": "\(shards.count)",
            "stopped": "\(stopping.map(\.shard.name).sorted().joined(separator: ","))",
        ])
        reportAgreement()
    }

    /// Whether this process's own list is the one in force: a log line when not, the gauge
    /// `threatpipe_group_shard_list_differs` (1 when not), and the `/readyz` detail.
    func reportAgreement() {
        let own = ShardList(group.shards).digest
        let current = inForce.withLockedValue { $0 }
        let differs = own != current.list.digest
        Gauge(label: "threatpipe_group_shard_list_differs").record(differs ? 1 : 0)
        guard differs else { return }
        logger.warning("this process's shard list differs from the group's list in force: it runs the one in force", metadata: [
            "own_digest": "\(own)", "in_force_digest": "\(current.list.digest)", "published_by": "\(current.publisher)",
        ])
    }

    /// The `/readyz` detail line on the list: its digest, who published it, and this process's own when it differs.
    var agreementDetail: String {
        let own = ShardList(group.shards).digest
        let current = inForce.withLockedValue { $0 }
        let line = "shard list in force \(current.list.digest) (\(current.shards.count) shards, published by \(current.publisher))"
        return own == current.list.digest ? line : line + "; this process's file differs: \(own)"
    }
}
