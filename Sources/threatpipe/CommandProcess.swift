#if canImport(Glibc)
import Glibc
#endif
import Logging

/// What every pipeline command does around its work: process set-up, the closing line on success, one error line
/// and the documented exit status on failure.
enum CommandProcess {
    static func run(label: String, logLevel: Logger.Level, _ body: (Logger) async throws -> String) async throws {
        signal(SIGPIPE, SIG_IGN)
        MemoryTuning.apply()
        let logger = LogSetup.logger(label: label, level: logLevel)
        do {
            printError(try await body(logger))
        } catch {
            printError("threatpipe: error: \(error)")
            throw ExitStatus.of(error).exitCode
        }
    }
}
