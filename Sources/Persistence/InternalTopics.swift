import Blocking
import Kafka
import Pipeline

/// threatpipe's own topics in the Kafka store — the checkpoint topic and the state topic — set up the way Kafka
/// Connect sets up its config, offset and status topics: at start, a missing one is created (compacted, with the
/// partitions it needs), one that cannot work stops the run with one line saying what to change, and one that works
/// less well than it should (not compacted, or compaction unknown) is a warning.
///
/// The rules (``verdicts(checkpoint:state:)``) are one pure function that `run` and `check` share, so both say the
/// same thing with the same exit status:
///
/// | topic | found | verdict |
/// |---|---|---|
/// | either | not a valid topic name | configuration error (exit 64) |
/// | checkpoint | missing | created with ``checkpointPartitions`` partitions; with `--no-create-topics`, a configuration error |
/// | state | missing | created with the checkpoint topic's partition count; with `--no-create-topics`, a configuration error |
/// | state | fewer partitions than the checkpoint topic | configuration error: a shard's state lives in its checkpoint partition |
/// | either | `cleanup.policy` without `compact`, or not readable | a warning |
public struct InternalTopics: Sendable {
    /// Which of the store's topics.
    public enum Role: String, Sendable {
        case checkpoint
        case state
    }

    /// What the cluster said of one topic.
    public enum Finding: Sendable, Equatable {
        case present(partitions: Int, cleanupPolicy: KafkaClusterProbe.ConfigurationAnswer)
        case missing
    }

    /// What is done about one topic.
    public struct Verdict: Sendable {
        public var role: Role
        public var topic: String
        /// The topic is created with this many partitions.
        public var create: Int?
        /// The topic's partitions: as found, or as it will be created; nil when it cannot work.
        public var partitions: Int?
        /// Why the run cannot start (a ``ConfigurationError``-kind error).
        public var failure: InternalTopicError?
        /// What works less well than it should.
        public var warning: String?
        /// What `check` prints.
        public var detail: String
    }

    public var settings: CompactedTopic.Settings
    /// The state topic; nil when changes are not tracked.
    public var stateTopic: String?
    /// Create a missing topic (`--no-create-topics` turns it off).
    public var createMissing: Bool
    /// A new checkpoint topic's partitions (`--checkpoint-partitions`; by default the number of shards, at least 1).
    public var checkpointPartitions: Int
    /// A new topic's replication factor; nil: the cluster's default.
    public var replicationFactor: Int?

    public init(
        settings: CompactedTopic.Settings, stateTopic: String?, createMissing: Bool = true, checkpointPartitions: Int = 1,
        replicationFactor: Int? = nil
    ) {
        self.settings = settings
        self.stateTopic = stateTopic
        self.createMissing = createMissing
        self.checkpointPartitions = max(checkpointPartitions, 1)
        self.replicationFactor = replicationFactor
    }

    /// Problems with the names alone, before the cluster is asked anything.
    public func nameVerdicts() -> [Verdict] {
        var topics = [(Role.checkpoint, settings.topic)]
        if let stateTopic { topics.append((.state, stateTopic)) }
        return topics.compactMap { role, topic in
            KafkaTopicAdmin.nameProblem(topic).map { problem in
                let error = InternalTopicError(
                    description: "the \(role.rawValue) topic '\(topic)' is not a valid Kafka topic name: \(problem); name another with --\(role.rawValue)-topic"
                )
                return Verdict(role: role, topic: topic, failure: error, detail: error.description)
            }
        }
    }

    /// The verdicts on what the cluster said of each topic (`state` nil when changes are not tracked).
    public func verdicts(checkpoint: Finding, state: Finding?) -> [Verdict] {
        var verdicts: [Verdict] = []
        let checkpointCount: Int
        switch checkpoint {
        case .present(let partitions, let policy):
            checkpointCount = partitions
            verdicts.append(present(.checkpoint, settings.topic, partitions, policy, whenDeleted: "old checkpoints are deleted by age only"))
        case .missing:
            checkpointCount = checkpointPartitions
            verdicts.append(missing(.checkpoint, settings.topic, partitions: checkpointPartitions))
        }
        guard let stateTopic, let state else { return verdicts }
        switch state {
        case .present(let partitions, _) where partitions < checkpointCount:
            let error = InternalTopicError(
                description: "the state topic \(stateTopic) has \(partitions) partitions, fewer than the checkpoint topic \(settings.topic)'s "
                    + "\(checkpointCount): a shard's state lives in its checkpoint partition; give it \(checkpointCount) partitions "
                    + "(or delete it and let threatpipe create it), or run with --no-track-changes"
            )
            verdicts.append(Verdict(role: .state, topic: stateTopic, failure: error, detail: error.description))
        case .present(let partitions, let policy):
            verdicts.append(present(.state, stateTopic, partitions, policy, whenDeleted: "entries are deleted by age and threats become unknown"))
        case .missing:
            verdicts.append(missing(.state, stateTopic, partitions: checkpointCount))
        }
        return verdicts
    }

    private func present(
        _ role: Role, _ topic: String, _ partitions: Int, _ policy: KafkaClusterProbe.ConfigurationAnswer, whenDeleted: String
    ) -> Verdict {
        let compaction = Self.compactionDetail(policy, whenDeleted: whenDeleted)
        let compacted = if case .value(let value) = policy, value.contains("compact") { true } else { false }
        return Verdict(
            role: role, topic: topic, partitions: partitions,
            warning: compacted ? nil : "the \(role.rawValue) topic \(topic): \(compaction)",
            detail: "present, \(partitions) partitions, \(compaction)"
        )
    }

    private func missing(_ role: Role, _ topic: String, partitions: Int) -> Verdict {
        guard createMissing else {
            let error = InternalTopicError(
                description: "the \(role.rawValue) topic \(topic) does not exist and --no-create-topics is set: create it "
                    + "(cleanup.policy=compact, \(partitions) partitions), or drop --no-create-topics"
                    + (role == .state ? ", or run with --no-track-changes" : "")
            )
            return Verdict(role: role, topic: topic, failure: error, detail: error.description)
        }
        return Verdict(
            role: role, topic: topic, create: partitions, partitions: partitions,
            detail: "does not exist: will be created with \(partitions) partitions, cleanup.policy=compact"
                + (role == .checkpoint ? ", max.message.bytes=\(CompactedTopic.maximumRecordBytes)" : "")
                + ", replication \(replicationFactor.map(String.init) ?? "the cluster's default")"
        )
    }

    /// What is said of a topic's `cleanup.policy`; `whenDeleted` is what deletion by age costs that topic.
    public static func compactionDetail(_ policy: KafkaClusterProbe.ConfigurationAnswer, whenDeleted: String) -> String {
        switch policy {
        case .value(let value) where value.contains("compact"): "compacted (cleanup.policy=\(value))"
        case .value(let value): "NOT compacted (cleanup.policy=\(value)): \(whenDeleted); set cleanup.policy=compact"
        case .notSet: "cleanup.policy is not set on this topic (so: delete): \(whenDeleted); set cleanup.policy=compact"
        case .noAnswer: "compaction unknown (the cluster did not answer DescribeConfigs)"
        }
    }

    // MARK: - Asking the cluster

    /// Asks the cluster about each topic (creating nothing) and returns the verdicts: `check`'s view. A cluster that
    /// cannot be asked throws (``InternalTopicError``, unavailable).
    public func inspect() async throws -> [Verdict] {
        let names = nameVerdicts()
        guard names.isEmpty else { return names }
        let (checkpoint, state) = try await findings()
        return verdicts(checkpoint: checkpoint, state: state)
    }

    /// `run`'s start: asks the cluster for each topic's partitions (not its configuration: see
    /// ``compactionWarnings()``), stops on a verdict that cannot work, creates what is missing, and returns the
    /// checkpoint topic's partition count. Throws ``InternalTopicError`` (configuration: exit 64) or
    /// unavailable (the cluster could not be asked, or a creation failed for now: retried by the caller).
    public func prepare(created: @Sendable (String, Int) -> Void) async throws -> Int {
        if let failure = nameVerdicts().lazy.compactMap(\.failure).first { throw failure }
        var (checkpoint, state) = try await findings(describe: false)
        let verdicts = verdicts(checkpoint: checkpoint, state: state)
        if let failure = verdicts.lazy.compactMap(\.failure).first { throw failure }
        for verdict in verdicts {
            guard let partitions = verdict.create else { continue }
            try await create(verdict.topic, partitions: partitions, role: verdict.role)
            created(verdict.topic, partitions)
        }
        if verdicts.contains(where: { $0.create != nil }) {
            // What the cluster now holds: created topics can take a moment to show in its metadata.
            (checkpoint, state) = try await waitUntilPresent()
            if let failure = self.verdicts(checkpoint: checkpoint, state: state).lazy.compactMap(\.failure).first { throw failure }
        }
        guard case .present(let partitions, _) = checkpoint else {
            throw InternalTopicError(
                description: "the checkpoint topic \(settings.topic) was created but is not in the cluster's metadata yet", kind: .unavailable
            )
        }
        return partitions
    }

    /// The warnings about each topic's compaction (DescribeConfigs). Apart from ``prepare(created:)``: a cluster that
    /// does not answer DescribeConfigs (librdkafka's mock) costs its timeout, which must not hold up the start.
    public func compactionWarnings() async -> [String] {
        guard let (checkpoint, state) = try? await findings(describe: true) else { return [] }
        return verdicts(checkpoint: checkpoint, state: state).compactMap(\.warning)
    }

    /// Asks again until no topic is missing, for up to the settings' timeout.
    private func waitUntilPresent() async throws -> (checkpoint: Finding, state: Finding?) {
        let deadline = ContinuousClock.now + settings.timeout
        while true {
            let found = try await findings(describe: false)
            if (found.checkpoint != .missing && found.state != .missing) || ContinuousClock.now >= deadline { return found }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    private func findings(describe: Bool = true) async throws -> (checkpoint: Finding, state: Finding?) {
        let checkpoint = try await finding(settings.topic, describe: describe)
        let state: Finding? = if let stateTopic { try await finding(stateTopic, describe: describe) } else { nil }
        return (checkpoint, state)
    }

    /// What the cluster says of `topic`: its partitions, and with `describe` its `cleanup.policy`.
    private func finding(_ topic: String, describe: Bool) async throws -> Finding {
        let settings = self.settings
        do {
            return try await performBlockingCall { () throws -> Finding in
                let timeout = min(settings.timeout, .seconds(10))
                let metadata = try KafkaClusterProbe.metadata(topic: topic, properties: settings.properties, timeout: timeout)
                guard let partitions = metadata.partitions else { return .missing }
                guard describe else { return .present(partitions: partitions, cleanupPolicy: .noAnswer) }
                let policy = (try? KafkaClusterProbe.topicConfiguration(
                    topic: topic, key: "cleanup.policy", properties: settings.properties, timeout: .seconds(5)
                )) ?? .noAnswer
                return .present(partitions: partitions, cleanupPolicy: policy)
            }
        } catch let error as KafkaError {
            throw InternalTopicError(
                description: "the Kafka store's topic \(topic) could not be looked up: \(error)", kind: .unavailable
            )
        }
    }

    private func create(_ topic: String, partitions: Int, role: Role) async throws {
        let settings = self.settings
        var configs = ["cleanup.policy": "compact"]
        // A checkpoint grows with the overlap's versions up to the store producer's limit: the topic admits it.
        if role == .checkpoint { configs["max.message.bytes"] = "\(CompactedTopic.maximumRecordBytes)" }
        let newTopic = KafkaTopicAdmin.NewTopic(name: topic, partitions: partitions, replicationFactor: replicationFactor, configs: configs)
        let byHand = "create it (cleanup.policy=compact, \(partitions) partitions)"
        do {
            try await performBlockingCall { () throws in
                try KafkaTopicAdmin.create(newTopic, properties: settings.properties, timeout: min(settings.timeout, .seconds(15)))
            }
        } catch let error as KafkaError {
            guard InternalTopicError.refusedCreation.contains(error.code) else {
                throw InternalTopicError(
                    description: "the \(role.rawValue) topic \(topic) could not be created (\(error)); asked again after a "
                        + "backoff — where the cluster never can, \(byHand) and start again",
                    kind: .unavailable
                )
            }
            throw InternalTopicError(
                description: "the \(role.rawValue) topic \(topic) could not be created (\(error)): \(byHand) and start again, "
                    + "with --no-create-topics where the account may not create topics"
            )
        }
    }
}

/// One of the store's topics cannot work as configured (a bad name, too few partitions, missing while creation is
/// off, a creation the cluster refuses): a configuration error, exit 64 — nothing a retry can fix. Or, with kind
/// ``FailureKind/unavailable``, the cluster could not be asked, or did not create it now: the start tries again.
public struct InternalTopicError: Error, Sendable, CustomStringConvertible, ClassifiedError {
    public var description: String
    /// Configuration (exit 64), or the cluster could not be asked or could not create it now (unavailable: retried).
    public var kind: FailureKind

    public init(description: String, kind: FailureKind = .configuration) {
        self.description = description
        self.kind = kind
    }

    /// CreateTopics answers that no retry changes: not allowed (topic or cluster authorization), invalid (topic,
    /// partitions, replication factor, configuration), a policy's refusal, or not supported by the cluster.
    static let refusedCreation: Set<KafkaError.ErrorCode> = Set([29, 31, 17, 37, 38, 40, 44, 35, -165].map { KafkaError.ErrorCode(rawValue: $0) })
}
