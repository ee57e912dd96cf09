import Foundation
import ArgumentParser
import Logging
import Runtime

/// How threatpipe reports on itself: logs and the metrics/health endpoint. Shared by `export` and `run`.
struct OperationsOptions: ParsableArguments {
    @Option(help: "A YAML file of settings: keys are these options' long names; flags and THREATPIPE_* variables win over it.")
    var config: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .notice

    @Option(help: "Log line format on standard error: logfmt or json.")
    var logFormat: LineLogHandler.Format = .logfmt

    @Option(help: "Serve /metrics (Prometheus), /healthz and /readyz on HOST:PORT (port 0 picks one and logs it).")
    var metricsListen: String?

    func validate() throws {
        if let metricsListen, Self.hostAndPort(metricsListen) == nil {
            throw ValidationError("--metrics-listen takes HOST:PORT, e.g. 0.0.0.0:9464")
        }
    }

    /// The options as the runtime's plain configuration.
    var configuration: OperationsConfiguration {
        OperationsConfiguration(logLevel: logLevel, logFormat: logFormat, metricsListen: metricsListen.flatMap(Self.hostAndPort))
    }

    /// `host:port` split; `nil` when it is not that.
    static func hostAndPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
        else { return nil }
        let host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}
