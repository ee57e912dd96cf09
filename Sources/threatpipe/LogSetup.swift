import ArgumentParser
import Logging

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LineLogHandler.Format: ExpressibleByArgument {}

/// Logging to standard error, so that standard output carries records only.
enum LogSetup {
    static func logger(label: String, level: Logger.Level, format: LineLogHandler.Format = .logfmt) -> Logger {
        var logger = Logger(label: label) { label in LineLogHandler(label: label, format: format) }
        logger.logLevel = level
        return logger
    }
}
