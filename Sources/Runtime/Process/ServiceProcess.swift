#if canImport(Glibc)
import Glibc
#endif
import Logging
import Observability
import Pipeline
import ServiceLifecycle
import UnixSignals

/// What every pipeline command does around its work: process set-up, logging, and one service group holding the
/// metrics server (first, so it stops last) and the work; SIGTERM/SIGINT shut the group down gracefully in reverse
/// order (the work stops fetching and drains, then the metrics server stops). Then the closing line on success, or
/// one error line and the documented exit status.
public enum ServiceProcess {
    /// Runs `body` as the work of a service group and returns the exit status it ends with (already reported on
    /// standard error).
    public static func run(
        label: String,
        operations: OperationsConfiguration,
        readiness: Readiness = Readiness(),
        stopping: String,
        _ body: @escaping @Sendable (Logger, StopSignal) async throws -> String
    ) async -> ExitStatus {
        signal(SIGPIPE, SIG_IGN)
        MemoryTuning.apply()
        let logger = LogSetup.logger(label: label, level: operations.logLevel, format: operations.logFormat)
        let stop = StopSignal()
        let signals = await StopOnSignals.watch(logger: logger, meaning: stopping, stop: stop)
        let work = WorkService(stop: stop) { stop in try await body(logger, stop) }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let (host, port) = operations.metricsListen {
            MetricsServer.bootstrapMetrics()
            let server = MetricsServer(host: host, port: port, readiness: readiness, logger: logger) { port in
                logger.notice("metrics listening", metadata: ["address": "http://\(host):\(port)"])
            }
            services.append(.init(service: server, serviceName: "metrics"))
        }
        services.append(.init(
            service: work, successTerminationBehavior: .gracefullyShutdownGroup,
            failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: label
        ))
        var groupLogger = logger
        groupLogger.logLevel = max(logger.logLevel, .warning)
        let group = ServiceGroup(configuration: .init(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: groupLogger
        ))

        let hangups = ReopenOnHangup.watch(logger: logger)
        defer {
            signals.cancel()
            hangups.cancel()
        }
        do {
            try await group.run()
            guard let result = work.result else { throw ConfigurationError(description: "the work did not run") }
            printError(try result.get())
            return .success
        } catch {
            readiness.markNotReady("\(error)")
            printError("threatpipe: error: \(error)")
            return ExitStatus.of(error)
        }
    }
}
