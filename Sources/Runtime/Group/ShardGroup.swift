import Kafka
import Logging
import Metrics
import NIOConcurrencyHelpers
import Persistence
import Pipeline
import Sinks
import SentinelOne

/// The shards one process of a group runs: started when the group assigns their partitions, stopped — drained,
/// their last transaction committed — when it revokes them, before the partitions move on. Each shard follows its
/// console on its own (a failing shard is retried without touching the others); the shards of one console share
/// the process's share of that console's request budget.
final class ShardGroup: Sendable {
    /// What one running shard has.
    struct Worker: Sendable {
        var shard: ShardConfiguration
        var partition: Int32
        var stop: StopSignal
        var health: PollHealth
        var task: Task<Void, Never>
    }

    struct State: Sendable {
        var workers: [String: Worker] = [:]
        var partitions: Set<Int32> = []
        var joined = false
        /// The process is stopping: no shard is started any more.
        var stopping = false
        /// A failure that ends the process (a fenced producer: another process owns a shard this one still runs).
        var fatal: (any Error)?
        /// Shards `--reset-state` was applied to: once per process, at a shard's first start — not again when it
        /// starts after a failure or comes back in a later assignment.
        var reset: Set<String> = []
    }

    /// Whether `shard` starts afresh: the first start of each shard under `--reset-state`, never a later one.
    func startsAfresh(_ shard: String) -> Bool {
        guard template.resetState else { return false }
        return state.withLockedValue { $0.reset.insert(shard).inserted }
    }

    /// The group as this process's configuration file has it; the shards it runs are the list in force's.
    let group: GroupConfiguration
    let template: RunConfiguration
    let store: CompactedTopic.Settings
    let partitionCount: Int
    /// One console session per console, made when a shard of that console first starts (the list in force can name
    /// a console this process's file does not).
    private let sessions: NIOLockedValueBox<[String: ConsoleSession]>
    /// The shard list the group runs (see ``ShardList``): this process's own until a newer one is published.
    let inForce: NIOLockedValueBox<InForce>
    let processStop: StopSignal
    let logger: Logger
    let state = NIOLockedValueBox(State())

    /// The shard list in force, its configurations, and who published it.
    struct InForce: Sendable {
        var list: ShardList
        var shards: [ShardConfiguration]
        var publisher: String
    }
    /// The clients every shard shares, so that threads and descriptors do not grow with the shard count.
    let clients: SharedClients

    /// The Kafka clients the shards of the process share.
    struct SharedClients: Sendable {
        /// The producer of the process's compacted topics — the checkpoint stores' (at least once; exactly once,
        /// checkpoints go in the transactions) and the state stores' — one for both: their properties are equal.
        var stores: KafkaProducerLanes?
        /// The shards' threat state: one local copy, one read of each partition per assignment (on `stores`).
        var state: SharedThreatState?
        /// The Kafka sinks' producer (at least once; exactly once, each shard's transactions need their own).
        var sink: SharedKafkaSinkProducer?
    }

    init(
        group: GroupConfiguration, template: RunConfiguration, store: CompactedTopic.Settings, partitionCount: Int,
        sessions: [String: ConsoleSession], clients: SharedClients, processStop: StopSignal, logger: Logger
    ) {
        self.clients = clients
        self.group = group
        self.template = template
        self.store = store
        self.partitionCount = partitionCount
        self.sessions = NIOLockedValueBox(sessions)
        self.inForce = NIOLockedValueBox(InForce(list: ShardList(group.shards), shards: group.shards, publisher: "this process"))
        self.processStop = processStop
        self.logger = logger
    }

    /// The console session of `console`, made on first use.
    func session(for console: ConsoleConfiguration, logger: Logger) throws -> ConsoleSession {
        try sessions.withLockedValue { sessions in
            if let session = sessions[console.console.base] { return session }
            let made = try ConsoleSession(configuration: console, logger: logger)
            sessions[console.console.base] = made
            return made
        }
    }

    /// Every console session made, for the process to shut down at the end.
    var allSessions: [ConsoleSession] { sessions.withLockedValue { Array($0.values) } }

    /// The shards of the list in force carried by `partitions`.
    func shards(in partitions: Set<Int32>) -> [(ShardConfiguration, Int32)] {
        inForce.withLockedValue { $0.shards }.compactMap { shard in
            let partition = ShardPlacement.partition(of: shard.name, partitions: partitionCount)
            return partitions.contains(partition) ? (shard, partition) : nil
        }
    }

    /// Applies a change of this process's assignment; returns once revoked shards have stopped.
    func apply(_ change: KafkaGroupMember.Change) async {
        Counter(label: "threatpipe_rebalances_total").increment()
        switch change {
        case .assigned(let partitions):
            // A member that joined with a newer list published it first: every change of the assignment reads the
            // list in force again, and runs its shards in every partition held.
            await refreshList()
            let held = state.withLockedValue { $0.partitions.union(partitions) }
            // One read of the held partitions serves every shard starting now (their first checkpoint load).
            let read = CheckpointTopicRead(settings: store, assigned: held)
            let started = shards(in: held).compactMap { shard, partition in start(shard, partition: partition, read: read) }
            state.withLockedValue {
                $0.joined = true
                $0.partitions.formUnion(partitions)
            }
            updateShares()
            logger.notice("shards assigned", metadata: [
                "started": "\(started.sorted().joined(separator: ","))", "partitions": "\(partitions.sorted())",
                "held": "\(heldNames.joined(separator: ","))",
            ])
        case .revoked(let partitions, let lost):
            logger.info("revoking shards", metadata: ["partitions": "\(partitions.sorted())", "lost": "\(lost)"])
            let stopping = state.withLockedValue { state -> [Worker] in
                state.partitions.subtract(partitions)
                let leaving = state.workers.values.filter { partitions.contains($0.partition) }
                for worker in leaving { state.workers[worker.shard.name] = nil }
                return leaving
            }
            for worker in stopping { worker.stop.requestStop() }
            for worker in stopping { await worker.task.value }
            updateShares()
            logger.notice("shards revoked", metadata: [
                "stopped": "\(stopping.map(\.shard.name).sorted().joined(separator: ","))", "partitions": "\(partitions.sorted())",
                "lost": "\(lost)", "held": "\(heldNames.joined(separator: ","))",
            ])
        }
        Gauge(label: "threatpipe_shards_assigned").record(Double(heldNames.count))
    }

    /// Stops every shard (each drains and commits) and starts none any more: what a leaving process does while it
    /// still holds the partitions, so no other process starts a shard before this one has let go of it.
    func stopAll() async {
        let stopping = state.withLockedValue { state -> [Worker] in
            state.stopping = true
            defer { state.workers = [:] }
            return Array(state.workers.values)
        }
        guard !stopping.isEmpty else { return }
        for worker in stopping { worker.stop.requestStop() }
        for worker in stopping { await worker.task.value }
        logger.notice("shards stopped", metadata: ["stopped": "\(stopping.map(\.shard.name).sorted().joined(separator: ","))"])
        Gauge(label: "threatpipe_shards_assigned").record(0)
    }

    /// Names of the shards running here, sorted.
    var heldNames: [String] { state.withLockedValue { $0.workers.keys.sorted() } }

    /// Starts a shard's worker unless it runs already; returns its name when started.
    private func start(_ shard: ShardConfiguration, partition: Int32, read: CheckpointTopicRead) -> String? {
        let stop = StopSignal()
        let health = PollHealth()
        return state.withLockedValue { state in
            guard state.workers[shard.name] == nil, !state.stopping else { return nil }
            let task = Task { await self.follow(shard, partition: partition, stop: stop, health: health, read: read) }
            state.workers[shard.name] = Worker(shard: shard, partition: partition, stop: stop, health: health, task: task)
            return shard.name
        }
    }

    /// Sets every console's limiter to this process's share of its budget: of the list in force's shards of that
    /// console, the ones it runs.
    private func updateShares() {
        let held = state.withLockedValue { state in state.workers.values.map(\.shard.console.console.base) }
        let shards = inForce.withLockedValue { $0.shards }
        for (console, session) in sessions.withLockedValue({ $0 }) {
            let total = shards.filter { $0.console.console.base == console }.count
            // `auto:MAX`: MAX is the group's budget too, and the process's share is its adaptive limiter's ceiling.
            let budget = session.configuration.adaptiveRateLimit ?? session.configuration.rateLimit
            let share = ShardPlacement.rateShare(budget: budget, held: held.filter { $0 == console }.count, total: total)
            session.setRateLimit(share)
        }
    }
}
