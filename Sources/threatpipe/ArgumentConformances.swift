import ArgumentParser
import Logging
import Runtime

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LineLogHandler.Format: ExpressibleByArgument {}
extension EnrichmentErrorPolicy: ExpressibleByArgument {}
extension RunConfiguration.Delivery: ExpressibleByArgument {}

/// The runtime's configuration made from the options; an error found on the way is reported on standard error as
/// the runtime reports its own — one line — and ends the process with the documented status.
func configured<Configuration>(_ make: () throws -> Configuration) throws -> Configuration {
    do {
        return try make()
    } catch {
        printError("threatpipe: error: \(error)")
        throw ExitCode(ExitStatus.of(error).rawValue)
    }
}
