#if canImport(Glibc)
import Glibc
#endif
import Logging
import Observability

/// What every pipeline command does around its work: process set-up, logging, the metrics endpoint, the closing line
/// on success, one error line and the documented exit status on failure.
enum CommandProcess {
    static func run(
        label: String,
        operations: OperationsOptions,
        readiness: Readiness = Readiness(),
        _ body: (Logger) async throws -> String
    ) async throws {
        signal(SIGPIPE, SIG_IGN)
        MemoryTuning.apply()
        let logger = LogSetup.logger(label: label, level: operations.logLevel, format: operations.logFormat)
        // The metrics server starts first and stops last, so the end of the work can still be scraped.
        let server = operations.metricsListen.flatMap(OperationsOptions.hostAndPort).map { host, port in
            MetricsServer.bootstrapMetrics()
            let server = MetricsServer(host: host, port: port, readiness: readiness, logger: logger)
            return Task {
                try await server.run { port in
                    logger.notice("metrics listening", metadata: ["address": "http://\(host):\(port)"])
                }
            }
        }
        defer { server?.cancel() }
        do {
            printError(try await body(logger))
        } catch {
            readiness.markNotReady("\(error)")
            printError("threatpipe: error: \(error)")
            throw ExitStatus.of(error).exitCode
        }
    }
}
