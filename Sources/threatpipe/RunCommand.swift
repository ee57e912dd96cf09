import ArgumentParser
import Runtime
import RawJSON

/// `threatpipe run`: follows the console continuously, delivering every new threat and every update once, with a
/// durable checkpoint.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Follow the console: poll for new and updated threats, deliver each version once, checkpoint.",
        discussion: """
            Every --interval, threatpipe asks for the threats updated since its checkpoint (updatedAt__gte, sorted \
            by updatedAt), skips the versions the checkpoint already covers, and moves the checkpoint only past \
            versions every sink acknowledged. The state file is replaced atomically. SIGTERM or SIGINT stops \
            fetching, delivers what is in flight, saves the checkpoint and exits 0; a second signal exits at once \
            (the state file never claims more than was acknowledged).

            With --group NAME, the shards listed under 'shards:' in the --config file are spread over every process \
            started with that group, through a Kafka consumer group on the checkpoint topic; a process that stops or \
            dies hands its shards to the others (see docs/groups.md).

            \(ExitStatus.documentation)
            """
    )

    @OptionGroup var source: SourceOptions
    @OptionGroup var sinks: SinkOptions
    @OptionGroup var record: RecordFormatOptions
    @OptionGroup var operations: OperationsOptions

    @Option(help: "When a threat's analysis or events cannot be fetched: emit the record with that part null and the error recorded, or fail.")
    var onEnrichmentError: EnrichmentErrorPolicy = .emit

    @Option(help: "A record whose analysis or events failed (after the retries; not a 404) is enriched again on later polls, with backoff, up to this many times; when it succeeds a complete record of the same version follows (meta.reenriched). 0 turns it off.")
    var reEnrichAttempts = 5

    @Option(help: "Time between the starts of two polls: seconds, or a duration such as 30s or 5m.", transform: DurationArgument.parser(or: Usage.interval))
    var interval = DurationArgument(.seconds(30), written: "30s")

    @Option(help: "Longest wait between polls after failures: the wait doubles from --interval up to it.", transform: DurationArgument.parser(or: Usage.maxBackoff))
    var maxBackoff = DurationArgument(.seconds(300), written: "5m")

    @Option(help: "The state file holding the checkpoint.")
    var state = "threatpipe-state.json"

    @Flag(help: "Start afresh from --since even if the state file belongs to other filters or another console; the threats' state (meta.change) starts afresh too.")
    var resetState = false

    @Option(help: "Where the first run starts: RFC 3339, or a duration ago such as 24h.", transform: InstantArgument.parser(or: Usage.since()))
    var since = InstantArgument(ago: .seconds(86_400), written: "24h")

    @Option(help: "Each poll starts this long before the checkpoint, to catch versions that become visible late (replication lag); versions already delivered are left out. 0s turns it off.", transform: DurationArgument.parser(or: Usage.overlap))
    var overlap = DurationArgument(.seconds(5), written: "5s")

    @OptionGroup var checkpoints: CheckpointOptions
    @OptionGroup var changes: ChangeOptions

    func validate() throws {
        try checkpoints.validate(with: sinks)
        try TimeOptionParsing.check(reEnrichAttempts, in: 0...20, "re-enrich-attempts")
        guard interval.duration >= .seconds(1) else {
            throw ValidationError(Usage.interval)
        }
        guard overlap.duration <= .seconds(3600) else {
            throw ValidationError(Usage.overlap)
        }
    }

    func run() async throws {
        if let group = try configured({ try checkpoints.groupConfiguration(configFile: operations.config, source: source) }) {
            let configuration = try configured { try runtimeConfiguration(console: group.shards[0].console) }
            let status = await ServiceProcess.runGroup(configuration, group: group, operations: operations.configuration)
            if status != .success { throw ExitCode(status.rawValue) }
            return
        }
        let configuration = try configured { try runtimeConfiguration() }
        let status = await ServiceProcess.run(configuration, operations: operations.configuration)
        if status != .success { throw ExitCode(status.rawValue) }
    }

    /// The options as the runtime's run configuration (`console`: a group's first shard's, its template).
    func runtimeConfiguration(console: ConsoleConfiguration? = nil) throws -> RunConfiguration {
        var configuration = RunConfiguration(
            console: try console ?? source.configuration(), sinks: sinks.configuration(format: record.format),
            initialSince: since.instant
        )
        configuration.failOnEnrichmentError = onEnrichmentError == .fail
        configuration.reenrichmentAttempts = reEnrichAttempts
        configuration.interval = interval.duration
        configuration.maximumBackoff = maxBackoff.duration
        configuration.overlap = overlap.duration
        configuration.statePath = state
        configuration.resetState = resetState
        checkpoints.apply(to: &configuration, sinks: sinks)
        try changes.apply(to: &configuration)
        return configuration
    }
}
