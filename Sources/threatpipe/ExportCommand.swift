import ArgumentParser
import Foundation
import Formats
import Logging
import Observability
import Pipeline
import RawJSON
import SentinelOne

/// `threatpipe export`: one pass over the console's threats, then exit.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export every threat matching the filters, enriched, then exit.",
        discussion: """
            The API token is read from the environment variable S1_API_TOKEN or from --api-token-file; it is never \
            taken from the command line and never logged.

            \(ExitStatus.documentation)
            """
    )

    @OptionGroup var source: SourceOptions
    @OptionGroup var sinks: SinkOptions
    @OptionGroup var operations: OperationsOptions

    @Option(help: "When a threat's analysis or events cannot be fetched: emit the record with that part null and the error recorded, or fail.")
    var onEnrichmentError: EnrichmentErrorPolicy = .emit

    @Option(help: "Only threats updated at or after this instant: RFC 3339, or a duration ago such as 24h or 7d.")
    var since: String?

    @Option(help: "Only threats updated before this instant: RFC 3339, or a duration ago.")
    var until: String?

    func validate() throws {
        let now = RFC3339Timestamp.now
        if let since, TimeOptionParsing.instant(since, now: now) == nil {
            throw ValidationError("--since takes an RFC 3339 time or a duration ago such as 24h, 0s…36500d")
        }
        if let until, TimeOptionParsing.instant(until, now: now) == nil {
            throw ValidationError("--until takes an RFC 3339 time or a duration ago such as 1h, 0s…36500d")
        }
    }

    func run() async throws {
        let readiness = Readiness()
        try await CommandProcess.run(
            label: "threatpipe.export", operations: operations, readiness: readiness,
            stopping: "delivering what is in flight, then exiting"
        ) { [self] logger, stop in
            try await export(logger: logger, readiness: readiness, stop: stop)
        }
    }

    /// The user's filters plus `--since`/`--until` as `updatedAt` bounds.
    private func filters() throws -> [QueryFilter] {
        var filters = try source.threatFilters()
        let now = RFC3339Timestamp.now
        for (option, name) in [(since, "updatedAt__gte"), (until, "updatedAt__lt")] {
            guard let option, let instant = TimeOptionParsing.instant(option, now: now) else { continue }
            if filters.contains(where: { $0.name == name }) {
                throw ConfigurationError(description: "--filter \(name) and --\(name.hasSuffix("gte") ? "since" : "until") say the same thing: give one")
            }
            filters.append(QueryFilter(name: name, value: instant.description))
        }
        return filters
    }

    private func export(logger: Logger, readiness: Readiness, stop: StopSignal) async throws -> String {
        let console = try source.console()
        let filters = try filters()
        let session = try source.makeSession(console: console, logger: logger)
        let deadLetters = try sinks.makeDeadLetterFile(logger: logger)
        defer { deadLetters?.close() }
        let sinkList = sinks.makeSinks(logger: logger, deadLetters: deadLetters)
        let result: Result<ExportSummary, any Error>
        let started = ContinuousClock.now
        do {
            let threatSource = try source.makeSource(filters: filters, session: session, logger: logger)
            var configuration = onEnrichmentError.configure(ExportPipeline<SentinelOneThreatSource>.Configuration(concurrency: source.concurrency))
            configuration.stop = stop
            let progress = ProgressLine.isWanted(stdoutSinkInUse: sinks.resolvedSinks.contains(.stdout)) ? ProgressLine() : nil
            if let progress {
                configuration.onWatermarkAdvanced = { progress.setDelivered(Int($0)) }
                let client = session.client(
                    token: try TokenSource.load(file: source.apiTokenFile, environment: ProcessInfo.processInfo.environment),
                    options: source, logger: logger
                )
                progress.setTotal(try? await client.countThreats(ThreatListQuery(filters: filters)))
            }
            let drawing = progress.map { progress in Task { await progress.draw() } }
            defer { drawing?.cancel() }
            let pipeline = ExportPipeline(
                source: threatSource,
                encoder: sinks.format.encoder(consoleURL: console.base),
                sinks: sinkList,
                configuration: configuration
            )
            logger.info("export starting", metadata: ["console": "\(console)", "sinks": "\(sinkList.map(\.name))"])
            readiness.markReady()
            result = .success(try await pipeline.run())
            drawing?.cancel()
            await drawing?.value
        } catch {
            result = .failure(error)
        }
        await session.shutdown()
        let summary = try result.get()
        let report = ExportReport(
            summary: summary,
            requests: session.statistics.snapshot,
            sinks: sinkList.map(\.name),
            elapsed: ContinuousClock.now - started
        ).line
        guard !summary.fetch.stoppedEarly else {
            // What was delivered is said, and the exit status says it is not everything.
            printError(report)
            throw ExportInterrupted(delivered: summary.write.records)
        }
        return report
    }
}
