import ArgumentParser
import Foundation
import Formats
import Kafka
import Logging
import Observability
import Persistence
import Pipeline
import RawJSON
import SentinelOne
import Sinks

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

            \(ExitStatus.documentation)
            """
    )

    @OptionGroup var source: SourceOptions
    @OptionGroup var sinks: SinkOptions
    @OptionGroup var operations: OperationsOptions

    @Option(help: "When a threat's analysis or events cannot be fetched: emit the record with that part null and the error recorded, or fail.")
    var onEnrichmentError: EnrichmentErrorPolicy = .emit

    @Option(help: "Time between the starts of two polls: seconds, or a duration such as 30s or 5m.")
    var interval = "30s"

    @Option(help: "Longest wait between polls after failures: the wait doubles from --interval up to it.")
    var maxBackoff = "5m"

    @Option(help: "The state file holding the checkpoint.")
    var state = "threatpipe-state.json"

    @Flag(help: "Start afresh from --since even if the state file belongs to other filters or another console.")
    var resetState = false

    @Option(help: "Where the first run starts: RFC 3339, or a duration ago such as 24h.")
    var since = "24h"

    @Option(help: "Each poll starts this long before the checkpoint, to catch versions that become visible late (replication lag); versions already delivered are left out. 0s turns it off.")
    var overlap = "5s"

    /// Filters `run` sets itself.
    static let managedFilters: Set<String> = ["updatedAt__gte", "updatedAt__gt", "sortBy", "sortOrder"]

    func validate() throws {
        guard let interval = TimeOptionParsing.duration(interval), interval >= .seconds(1) else {
            throw TimeOptionParsing.durationError("interval", example: "30s or 5m", minimum: "1s")
        }
        guard let overlap = TimeOptionParsing.duration(overlap), overlap <= .seconds(3600) else {
            throw ValidationError("--overlap takes seconds or a duration such as 5s, 0s…1h")
        }
        guard TimeOptionParsing.duration(maxBackoff) != nil else {
            throw TimeOptionParsing.durationError("max-backoff", example: "5m")
        }
        guard TimeOptionParsing.instant(since, now: .now) != nil else {
            throw ValidationError("--since takes an RFC 3339 time or a duration ago such as 24h, 0s…36500d")
        }
    }

    func run() async throws {
        let health = PollHealth()
        let readiness = Readiness(probe: {
            let state = health.state
            if state.isHealthy, state.successfulPolls > 0 { return .init(isReady: true, reason: "") }
            return .init(isReady: false, reason: state.lastError ?? "no poll has completed yet")
        })
        try await CommandProcess.run(
            label: "threatpipe.run", operations: operations, readiness: readiness,
            stopping: "delivering what is in flight, then saving the checkpoint"
        ) { [self] logger, stop in
            let checkpoint = try await follow(logger: logger, health: health, stop: stop)
            let reached = checkpoint.map { "\($0.updatedAt) (\($0.idsAtUpdatedAt.count) ids)" } ?? "none"
            return "threatpipe: stopped; checkpoint \(reached) in \(state)"
        }
    }

    private func follow(logger: Logger, health: PollHealth, stop: StopSignal) async throws -> Checkpoint? {
        let console = try source.console()
        let userFilters = try source.threatFilters()
        if let managed = userFilters.first(where: { Self.managedFilters.contains($0.name) }) {
            throw ConfigurationError(description: "filter '\(managed.name)' is set by threatpipe run (use --since for the start)")
        }
        let store = CheckpointFileStore(
            path: state, consoleURL: console.base, filters: userFilters.map { "\($0.name)=\($0.value)" },
            startAfresh: resetState
        )
        // Read before anything is requested: a state file of other filters or a corrupt one ends the run at once.
        _ = try store.load()
        let initialSince = TimeOptionParsing.instant(since, now: .now)!.description
        _ = try TokenSource.load(file: source.apiTokenFile, environment: ProcessInfo.processInfo.environment)


        let session = try source.makeSession(console: console, logger: logger)
        let source = self.source
        let sinks = self.sinks
        let deadLetters = try sinks.makeDeadLetterFile(logger: logger)
        defer { deadLetters?.close() }
        let parts = ContinuousExport<SentinelOneThreatSource>.Parts(
            makeSource: { since in
                try source.makeSource(
                    filters: userFilters + [
                        QueryFilter(name: "updatedAt__gte", value: since),
                        QueryFilter(name: "sortBy", value: "updatedAt"),
                        QueryFilter(name: "sortOrder", value: "asc"),
                    ],
                    session: session,
                    logger: logger
                )
            },
            makeSinks: { sinks.makeSinks(logger: logger, deadLetters: deadLetters) },
            encoder: sinks.format.encoder(consoleURL: console.base)
        )
        let continuous = ContinuousExport(
            parts: parts,
            pipelineConfiguration: onEnrichmentError.configure(.init(concurrency: source.concurrency)),
            interval: TimeOptionParsing.duration(interval)!,
            initialSince: initialSince,
            store: store,
            stop: stop,
            health: health,
            maximumBackoff: TimeOptionParsing.duration(maxBackoff)!,
            overlap: TimeOptionParsing.duration(overlap)!,
            logger: logger
        )
        let result: Result<Checkpoint?, any Error>
        do {
            result = .success(try await continuous.run(handling: Self.failureHandling))
        } catch {
            result = .failure(error)
        }
        await session.shutdown()
        return try result.get()
    }

    /// Errors another poll cannot fix (configuration, unusable state, a record a sink rejects for good with no
    /// dead-letter file) stop the run; a rejected token or permission is retried with backoff, loudly, since only a
    /// person can fix it; the rest (the console or a sink unavailable, a broken answer) is retried.
    @Sendable static func failureHandling(_ error: any Error) -> PollFailureHandling {
        guard let kind = FailureKind.of(error) else { return .retry }
        return handlingForKind[kind] ?? .retry
    }

    /// `run`'s table: stop or retry, per kind of failure.
    static let handlingForKind: [FailureKind: PollFailureHandling] = [
        .configuration: .stop,
        .state: .stop,
        .rejectedRecord: .stop,
        .authorization: .retryAndAlert,
        .unavailable: .retry,
        .protocolViolation: .retry,
        .sink: .retry,
        .interrupted: .stop,
    ]
}
