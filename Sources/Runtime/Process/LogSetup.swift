import Logging

/// Logging to standard error, so that standard output carries records only.
public enum LogSetup {
    public static func logger(label: String, level: Logger.Level, format: LineLogHandler.Format = .logfmt) -> Logger {
        var logger = Logger(label: label) { label in LineLogHandler(label: label, format: format) }
        logger.logLevel = level
        return logger
    }
}
