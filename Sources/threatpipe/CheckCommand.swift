import ArgumentParser
import Logging
import Runtime

/// `threatpipe check`: validates the configuration, then tries each dependency and prints one line per check.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration and test the console, the token, the filters, Kafka and the output paths.",
        discussion: """
            Prints one line per check (ok, FAIL or skip) and exits 0 when every check passed, otherwise with the exit \
            status of the first failure (69 unreachable, 77 token rejected, 74 output or Kafka, 65 a corrupt state file or database, 64 configuration).
            """
    )

    @OptionGroup var source: SourceOptions
    @OptionGroup var sinks: SinkOptions
    @OptionGroup var record: RecordFormatOptions
    @OptionGroup var operations: OperationsOptions
    @OptionGroup var checkpoints: CheckpointOptions
    @OptionGroup var changes: ChangeOptions

    @Option(help: "The state file holding the checkpoint (as run's --state): with --checkpoint-store file, check reads it and the threats' state database beside it, writing nothing.")
    var state = "threatpipe-state.json"

    @Flag(help: "As run's --reset-state: a state file of other filters or another console is then no failure.")
    var resetState = false

    func validate() throws {
        try checkpoints.validate(with: sinks)
    }

    func run() async throws {
        let logger = LogSetup.logger(label: "threatpipe.check", level: operations.logLevel, format: operations.logFormat)
        let report = await ThreatpipeRuntime.check(checkConfiguration(), logger: logger)
        for line in report.lines { printOutput(line.text) }
        if report.exitStatus != .success { throw ExitCode(report.exitStatus.rawValue) }
    }

    /// The options as the runtime's check configuration; a part that cannot be made is carried as its error.
    func checkConfiguration() -> CheckConfiguration {
        let group = checkpoints.group.map { name in
            (name: name, shards: Result { () throws -> GroupConfiguration in
                guard let group = try checkpoints.groupConfiguration(configFile: operations.config, source: source) else {
                    throw ConfigurationError(description: "--group needs shards")
                }
                return group
            })
        }
        // A group whose shards each name their console: the first shard's console is checked.
        let firstShard = (try? group?.shards.get())?.shards.first?.console
        var check = CheckConfiguration(console: firstShard.map { .success($0) } ?? Result { try source.configuration() })
        let properties = sinks.kafkaConfigurationProperties
        if sinks.resolvedSinks.contains(.kafka), let brokers = sinks.kafkaBrokers, let topic = sinks.kafkaTopic {
            check.kafka = (brokers, topic, properties)
        }
        if sinks.resolvedSinks.contains(.ndjson) { check.output = sinks.output }
        if checkpoints.checkpointStore == .kafka, let brokers = sinks.kafkaBrokers {
            check.checkpointTopic = (checkpoints.checkpointTopic, [("bootstrap.servers", brokers)] + properties)
        }
        check.delivery = checkpoints.delivery
        if checkpoints.checkpointStore == .file { check.stateFile = (state, changes.trackChanges, resetState) }
        check.topicCreation = checkpoints.topicSettings(sinks: sinks)
        if checkpoints.checkpointStore == .kafka, changes.trackChanges { check.stateTopic = changes.stateTopic }
        // The stored checkpoint's and the probe's instance: the top-level console's, as `run` derives it.
        check.instanceID = checkpoints.instanceId ?? (try? source.configuration()).map {
            RunConfiguration.defaultInstanceID(console: $0.console, filters: $0.filters)
        }
        check.group = group
        return check
    }
}
