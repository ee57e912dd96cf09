import ArgumentParser

/// `threatpipe`: streams SentinelOne threats, enriched with their analysis and explore events, into sinks.
@main
struct Threatpipe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "threatpipe",
        abstract: "Stream SentinelOne threats, enriched with their analysis and explore events, to stdout or NDJSON.",
        discussion: ExitStatus.documentation,
        subcommands: [ExportCommand.self, RunCommand.self, EmulatorCommand.self, KafkaMockClusterCommand.self]
    )
}
