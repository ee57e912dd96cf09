import ArgumentParser
import Logging

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Logging to standard error, so that standard output carries records only.
enum LogSetup {
    static func logger(label: String, level: Logger.Level) -> Logger {
        var logger = Logger(label: label) { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = level
        return logger
    }
}
