import ArgumentParser
import RawJSON
import Runtime

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
    @OptionGroup var record: RecordFormatOptions
    @OptionGroup var operations: OperationsOptions

    @Option(help: "When a threat's analysis or events cannot be fetched: emit the record with that part null and the error recorded, or fail.")
    var onEnrichmentError: EnrichmentErrorPolicy = .emit

    @Option(help: "Only threats updated at or after this instant: RFC 3339, or a duration ago such as 24h or 7d.", transform: InstantArgument.parser(or: Usage.since()))
    var since: InstantArgument?

    @Option(help: "Only threats updated before this instant: RFC 3339, or a duration ago.", transform: InstantArgument.parser(or: Usage.instant("until", example: "1h")))
    var until: InstantArgument?

    func run() async throws {
        let configuration = try configured(runtimeConfiguration)
        let status = await ServiceProcess.export(configuration, operations: operations.configuration)
        if status != .success { throw ExitCode(status.rawValue) }
    }

    /// The options as the runtime's export configuration.
    func runtimeConfiguration() throws -> ExportConfiguration {
        var configuration = ExportConfiguration(console: try source.configuration(), sinks: sinks.configuration(format: record.format))
        configuration.failOnEnrichmentError = onEnrichmentError == .fail
        configuration.since = since?.instant
        configuration.until = until?.instant
        configuration.showsProgress = ProgressLine.isWanted(stdoutSinkInUse: configuration.sinks.usesStdout)
        return configuration
    }
}
