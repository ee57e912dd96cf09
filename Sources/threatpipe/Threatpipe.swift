import Runtime
import ArgumentParser
import Foundation

/// `threatpipe`: streams SentinelOne threats, enriched with their analysis and explore events, into sinks.
@main
struct Threatpipe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "threatpipe",
        abstract: "Stream SentinelOne threats, enriched with their analysis and explore events, to Kafka, NDJSON files or stdout.",
        discussion: ExitStatus.documentation,
        subcommands: [ExportCommand.self, RunCommand.self, AuditCommand.self, CheckCommand.self, EmulatorCommand.self, KafkaMockClusterCommand.self]
    )

    /// Parses the arguments with the configuration file's and the environment's settings added (flags first).
    static func main() async {
        // Before any other thread allocates: an arena made earlier would stay (see MemoryTuning).
        MemoryTuning.apply()
        var arguments = Array(CommandLine.arguments.dropFirst())
        do {
            arguments = try await ConfigurationLayers.arguments(arguments, environment: ProcessInfo.processInfo.environment)
        } catch {
            printError("threatpipe: error: \(error)")
            Foundation.exit(ExitStatus.usage.rawValue)
        }
        await Self.main(arguments)
    }
}
