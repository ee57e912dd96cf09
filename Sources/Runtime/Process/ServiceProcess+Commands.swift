import Formats
import NIOConcurrencyHelpers
import Observability
import Pipeline
import Audit

/// The pipeline commands as processes: what `/readyz` answers for each, what it prints when it ends, and its exit
/// status. The command line parses its flags into the configuration values and calls one of these.
extension ServiceProcess {
    /// `export`: ready once the console answers and the sinks are open; not ready after a failure.
    public static func export(_ configuration: ExportConfiguration, operations: OperationsConfiguration) async -> ExitStatus {
        let readiness = Readiness()
        return await run(
            label: "threatpipe.export", operations: operations, readiness: readiness,
            stopping: "delivering what is in flight, then exiting"
        ) { logger, stop in
            try await ThreatpipeRuntime.export(configuration, logger: logger, readiness: readiness, stop: stop)
        }
    }

    /// `run`: ready while the last poll succeeded (and one has).
    public static func run(_ configuration: RunConfiguration, operations: OperationsConfiguration) async -> ExitStatus {
        let health = PollHealth()
        let readiness = Readiness(probe: {
            let state = health.state
            if state.isHealthy, state.successfulPolls > 0 { return .init(isReady: true, reason: "") }
            return .init(isReady: false, reason: state.lastError ?? "no poll has completed yet")
        })
        return await run(
            label: "threatpipe.run", operations: operations, readiness: readiness,
            stopping: "delivering what is in flight, then saving the checkpoint"
        ) { logger, stop in
            let checkpoint = try await ThreatpipeRuntime.run(configuration, logger: logger, health: health, stop: stop)
            let reached = checkpoint.map { "\($0.updatedAt) (\($0.idsAtUpdatedAt.count) ids)" } ?? "none"
            return "threatpipe: stopped; checkpoint \(reached) in \(configuration.checkpointLocation)"
        }
    }

    /// `run --group`: one process of the group, ready as its group status says.
    public static func runGroup(
        _ configuration: RunConfiguration, group: GroupConfiguration, operations: OperationsConfiguration
    ) async -> ExitStatus {
        let status = GroupStatus()
        return await run(
            label: "threatpipe.run", operations: operations, readiness: Readiness(probe: { status.state }),
            stopping: "draining every shard, committing its checkpoint, then leaving the group"
        ) { logger, stop in
            try await ThreatpipeRuntime.runGroup(configuration, group: group, logger: logger, status: status, stop: stop)
        }
    }

    /// How `audit` prints its report.
    public struct AuditOutput: Sendable {
        public var json: Bool
        public var bySite: Bool
        /// With `--repair`: the export that sends the missing, stale and incomplete threats again.
        public var repair: ExportConfiguration?
        /// The repair keeps the delivered records' format unless one was given.
        public var repairFormatGiven: Bool

        public init(json: Bool, bySite: Bool, repair: ExportConfiguration?, repairFormatGiven: Bool) {
            self.json = json
            self.bySite = bySite
            self.repair = repair
            self.repairFormatGiven = repairFormatGiven
        }
    }

    /// `audit` (and `--repair`): the report on standard output. The exit status: as ``ExitStatus``, except 1 when
    /// the run succeeded and something was missing, stale or incomplete and not all of it was sent again (as `diff`).
    public static func audit(
        _ configuration: AuditConfiguration, output: AuditOutput, operations: OperationsConfiguration
    ) async -> Int32 {
        let found = NIOLockedValueBox(true)
        let status = await run(
            label: "threatpipe.audit", operations: operations, stopping: "stopping the audit"
        ) { logger, stop in
            let report = try await ThreatpipeRuntime.audit(configuration, logger: logger, stop: stop)
            let text = output.json ? report.json(bySite: output.bySite) : report.text(bySite: output.bySite)
            printOutput(String(text.dropLast()))
            guard var export = output.repair, !report.isComplete else {
                found.withLockedValue { $0 = report.isComplete }
                return report.isComplete ? "threatpipe: audit: complete" : "threatpipe: audit: \(report.repairIDs.count) threats missing, stale or incomplete"
            }
            if !output.repairFormatGiven, let delivered = report.deliveredFormat.flatMap(OutputFormat.init(rawValue:)) {
                export.sinks.format = delivered
            }
            let lines = try await ThreatpipeRuntime.repair(report.repairIDs, configuration: export, logger: logger, stop: stop)
            for line in lines { printError(line) }
            found.withLockedValue { $0 = !stop.isStopRequested }
            return "threatpipe: repair sent \(report.repairIDs.count) threats again (\(report.count(.missing)) missing, "
                + "\(report.count(.stale)) stale, \(report.count(.incomplete)) incomplete): \(report.repairIDs.joined(separator: " "))"
        }
        if status == .success, !found.withLockedValue({ $0 }) { return 1 }
        return status.rawValue
    }
}
