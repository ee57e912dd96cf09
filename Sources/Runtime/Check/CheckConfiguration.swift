import Pipeline

/// What `check` tries: the configuration as the command line gave it, each part as it came out — a part that could
/// not be made is carried as its error, which becomes that check's FAIL line.
public struct CheckConfiguration: Sendable {
    /// The console, token and filters (a group's first shard's when every shard names its console).
    public var console: Result<ConsoleConfiguration, any Error>
    /// The Kafka sink's cluster and topic, when the Kafka sink is configured.
    public var kafka: (brokers: String, topic: String, properties: [(key: String, value: String)])?
    /// The NDJSON sink's file, when configured.
    public var output: String?
    /// The Kafka checkpoint store's topic and client properties (with `bootstrap.servers`), when configured.
    public var checkpointTopic: (topic: String, properties: [(key: String, value: String)])?
    public var delivery: RunConfiguration.Delivery = .atLeastOnce
    /// The Kafka store's state topic (`--state-topic`), when the checkpoint is in Kafka and changes are tracked.
    public var stateTopic: String?
    /// How `run` would set up the store's topics (`--no-create-topics`, `--checkpoint-partitions`,
    /// `--topic-replication-factor`): `check` says "will be created" for a topic `run` would create.
    public var topicCreation = CheckpointTopicSettings(properties: [], topic: "")
    /// The file store (`--checkpoint-store file`): the state file, whether changes are tracked (the database beside
    /// it) and `--reset-state` (a checkpoint of other filters is then no failure).
    public var stateFile: (path: String, tracksChanges: Bool, resetState: Bool)?
    /// `--instance-id`; nil: derived from the console and the filters.
    public var instanceID: String?
    /// `--group NAME` and its shards (or why they could not be read); nil without `--group`.
    public var group: (name: String, shards: Result<GroupConfiguration, any Error>)?

    public init(console: Result<ConsoleConfiguration, any Error>) {
        self.console = console
    }
}

/// One check's outcome: `ok`, `FAIL` or `skip`, with what was found.
public struct CheckLine: Sendable {
    public var name: String
    public var failure: (any Error)?
    public var detail: String
    public var skipped = false

    public init(name: String, failure: (any Error)? = nil, detail: String, skipped: Bool = false) {
        self.name = name
        self.failure = failure
        self.detail = detail
        self.skipped = skipped
    }

    /// The line `check` prints.
    public var text: String {
        if skipped { return "skip  \(name): \(detail)" }
        return failure == nil ? "ok    \(name): \(detail)" : "FAIL  \(name): \(detail)"
    }
}

/// What `check` found: its lines, and the exit status — the first failure's, 0 when every check passed.
public struct CheckReport: Sendable {
    public var lines: [CheckLine]

    public var exitStatus: ExitStatus {
        guard let failure = lines.first(where: { $0.failure != nil })?.failure else { return .success }
        let status = ExitStatus.of(failure)
        return status == .internalError ? .unavailable : status
    }
}
