import ArgumentParser
import Logging
import Runtime

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LineLogHandler.Format: ExpressibleByArgument {}
extension EnrichmentErrorPolicy: ExpressibleByArgument {}
extension RunConfiguration.Delivery: ExpressibleByArgument {}

/// The exit code for an error found while turning the options into the runtime's configuration, reported on
/// standard error as the runtime reports its own: one line, the documented status.
func reportedExitCode(_ error: any Error) -> ExitCode {
    printError("threatpipe: error: \(error)")
    return ExitCode(ExitStatus.of(error).rawValue)
}
