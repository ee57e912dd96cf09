import Logging

/// How a command reports on itself: the log level and format, and where the metrics/health endpoint listens.
public struct OperationsConfiguration: Sendable {
    public var logLevel: Logger.Level = .notice
    public var logFormat: LineLogHandler.Format = .logfmt
    /// Serve /metrics, /healthz and /readyz here (port 0 picks one); nil: not served.
    public var metricsListen: (host: String, port: Int)?

    public init(logLevel: Logger.Level = .notice, logFormat: LineLogHandler.Format = .logfmt, metricsListen: (host: String, port: Int)? = nil) {
        self.logLevel = logLevel
        self.logFormat = logFormat
        self.metricsListen = metricsListen
    }
}
