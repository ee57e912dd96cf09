import ArgumentParser
import Formats
import Foundation
import RawJSON
import Runtime
import Audit

/// `threatpipe audit`: what the console has in a window against what reached the sink — missing, stale,
/// incomplete, deleted upstream — and, with `--repair`, sends exactly what is missing again.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Compare the console's threats in a window with the records delivered; report (and --repair) what is missing.",
        discussion: """
            Lists the console's threats in the window with list requests only (--page-size, 1000 by default) and compares each \
            one's current (id, updatedAt) with the versions read from --from-ndjson files (rotated and .gz ones \
            too, any format) or from the --kafka-topic of --kafka-brokers (--from-kafka, read_committed). A threat is \
            missing (never delivered), stale (only older versions delivered), incomplete (its current version's \
            analysis or events failed) or deleted upstream (delivered, no longer listed; informational). Threats \
            updated within --settle are left out.

            --repair then exports exactly the missing, stale and incomplete threats through the sinks given as for \
            export (--sink, --output, --kafka-…), touching no run checkpoint.

            Exit status: 0 nothing missing, stale or incomplete (with --repair: all of it sent again); 1 something \
            is; otherwise as export: 64 usage or an unreadable input, 69 console unavailable, 77 token rejected, 76 \
            malformed answer, 74 a repair's sink failed.
            """
    )

    enum Grouping: String, ExpressibleByArgument, CaseIterable { case site }
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @OptionGroup var source: SourceOptions
    @OptionGroup var sinks: SinkOptions
    @OptionGroup var operations: OperationsOptions

    @Option(help: "Only threats updated at or after this instant: RFC 3339, or a duration ago such as 7d.", transform: InstantArgument.parser(or: Usage.instant("since")))
    var since: InstantArgument?

    @Option(help: "Only threats updated at or before this instant: RFC 3339, or a duration ago.", transform: InstantArgument.parser(or: Usage.instant("until")))
    var until: InstantArgument?

    @Option(help: "Only threats created at or after this instant (instead of --since on updatedAt).", transform: InstantArgument.parser(or: Usage.instant("created-since")))
    var createdSince: InstantArgument?

    @Option(help: "Only threats created at or before this instant.", transform: InstantArgument.parser(or: Usage.instant("created-until")))
    var createdUntil: InstantArgument?

    @Option(help: "Leave out threats updated in this last stretch of time (a running `run` may not have reached them yet): a duration such as 5m; 0s keeps all.", transform: DurationArgument.parser(or: Usage.settle))
    var settle = DurationArgument(.seconds(300), written: "5m")

    @Option(name: .customLong("from-ndjson"), parsing: .upToNextOption, help: "The delivered side: NDJSON files threatpipe wrote (rotated and .gz ones too), any format.")
    var fromNDJSON: [String] = []

    @Flag(help: "The delivered side: the --kafka-topic of --kafka-brokers, read from its beginning.")
    var fromKafka = false

    @Flag(help: "With --from-kafka: read uncommitted records too (records of aborted transactions count as delivered).")
    var readUncommitted = false

    @Option(help: "Also count per site.")
    var by: Grouping?

    @Option(help: "Output: text (a summary table, then the ids) or json (summary and arrays of ids).")
    var format: Format = .text

    @Flag(help: "Export exactly the missing, stale and incomplete threats through the sinks (--sink, as export), then say what was sent.")
    var repair = false

    @Option(help: "The record format --repair writes: raw, ocsf or ecs (default: the delivered records' format).")
    var repairFormat: OutputFormat?

    func validate() throws {
        if (since != nil || until != nil) && (createdSince != nil || createdUntil != nil) {
            throw ValidationError("give the window on updatedAt (--since/--until) or on createdAt (--created-since/--created-until), not both")
        }
        // An empty window would say "complete" about nothing.
        for (start, end, names) in [(since, until, ("since", "until")), (createdSince, createdUntil, ("created-since", "created-until"))] {
            if let start = start?.instant, let end = end?.instant, start >= end {
                throw ValidationError("--\(names.0) (\(start)) is not before --\(names.1) (\(end)): the window is empty")
            }
        }
        guard settle.duration <= .seconds(86_400 * 30) else {
            throw ValidationError(Usage.settle)
        }
        guard fromNDJSON.isEmpty != !fromKafka else {
            throw ValidationError("name the delivered side: --from-ndjson PATH… or --from-kafka (with --kafka-brokers and --kafka-topic)")
        }
        if fromKafka, sinks.kafkaBrokers?.isEmpty != false || sinks.kafkaTopic?.isEmpty != false {
            throw ValidationError("--from-kafka needs --kafka-brokers HOST:PORT and --kafka-topic NAME")
        }
    }

    func run() async throws {
        let (audit, export) = try configured { try runtimeConfiguration() }
        let output = ServiceProcess.AuditOutput(
            json: format == .json, bySite: by == .site, repair: repair ? export : nil, repairFormatGiven: repairFormat != nil
        )
        let status = await ServiceProcess.audit(audit, output: output, operations: operations.configuration)
        if status != 0 { throw ExitCode(status) }
    }

    /// The options as the runtime's audit configuration, and the export a repair runs.
    func runtimeConfiguration() throws -> (AuditConfiguration, ExportConfiguration) {
        let console = try source.configuration()
        let delivered: AuditConfiguration.Delivered = fromKafka
            ? .kafka(
                properties: [("bootstrap.servers", sinks.kafkaBrokers ?? "")] + sinks.kafkaConfigurationProperties,
                topic: sinks.kafkaTopic ?? "", readCommitted: !readUncommitted
            )
            : .ndjson(fromNDJSON)
        var audit = AuditConfiguration(console: console, delivered: delivered)
        audit.window.field = createdSince != nil || createdUntil != nil ? .createdAt : .updatedAt
        audit.window.since = (since ?? createdSince)?.instant
        audit.window.until = (until ?? createdUntil)?.instant
        audit.window.settle = settle.duration
        audit.bySite = by == .site
        audit.showsProgress = ProgressLine.isWanted(stdoutSinkInUse: false)
        return (audit, ExportConfiguration(console: console, sinks: sinks.configuration(format: repairFormat ?? .raw)))
    }
}
