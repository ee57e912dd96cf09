import Runtime
import ArgumentParser
import Emulator
import Foundation
import Logging

/// `threatpipe emulator`: a SentinelOne API emulator for demos, tests and benchmarks.
struct EmulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulator",
        abstract: "Serve a SentinelOne management API emulator with deterministic threats.",
        discussion: "Prints 'listening on http://HOST:PORT' on standard output once it accepts connections."
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 0

    @Option(help: "Number of threats the console holds.")
    var threats = 1000

    @Option(help: "Seed of the generated data: the same seed serves the same data.")
    var seed: UInt64 = 1

    @Option(help: "Every answer leaves this many milliseconds after its request arrived (building it included).")
    var latencyMs = 0

    @Option(help: "The API token the emulator accepts (a demo value, not a secret).")
    var token = EmulatorConfiguration().token

    @Option(help: "Live mode: threats added per second while serving.")
    var addPerSecond: Double = 0

    @Option(help: "Live mode: updates per second to random existing threats (new updatedAt and incident status).")
    var updatePerSecond: Double = 0

    @Option(help: "Live mode: updates per second that become visible 2 s after their updatedAt (replication lag).")
    var lateUpdatePerSecond: Double = 0

    @Option(help: "Live mode: stop changing the console after this many seconds.")
    var liveSeconds: Int?

    @Option(help: "Live mode: add this many threats at once, --burst-after seconds after the start (a burst of new threats).")
    var burstThreats = 0

    @Option(help: "Seconds after the start at which the --burst-threats are added.")
    var burstAfter = 10

    @Option(help: "Append every (id, updatedAt) version served in a list answer to this file, tab-separated, with the wall-clock time a live version appeared (- for the initial ones).")
    var versionsLog: String?

    @Option(name: .customLong("fault"), help: "Inject a fault: KIND[@rate=R|@requests=N,M|@every=N], KIND one of 429, 429-bare, 429-date, 503, slow, truncated, html, empty-200, duplicate-data, expired-cursor, or a hostile console's data: cursor-cycle, events-cursor-cycle, large-analysis@every=N; or limit=R: a token bucket of R requests/s (burst R), 429 beyond; repeatable.")
    var faults: [String] = []

    @Option(help: "Serve HTTPS with this PEM certificate (needs --tls-key).")
    var tlsCertificate: String?

    @Option(help: "The PEM private key of --tls-certificate.")
    var tlsKey: String?

    @Option(help: "Log level.")
    var logLevel: Logger.Level = .warning

    func validate() throws {
        try TimeOptionParsing.check(threats, in: 0...100_000_000, "threats")
        try TimeOptionParsing.check(port, in: 0...65535, "port")
        try TimeOptionParsing.check(latencyMs, in: 0...600_000, "latency-ms")
        guard addPerSecond.isFinite, updatePerSecond.isFinite, lateUpdatePerSecond.isFinite else { throw ValidationError("live rates are 0…100000 per second") }
        try TimeOptionParsing.check(addPerSecond, in: 0...100_000, "add-per-second")
        try TimeOptionParsing.check(updatePerSecond, in: 0...100_000, "update-per-second")
        try TimeOptionParsing.check(lateUpdatePerSecond, in: 0...100_000, "late-update-per-second")
        if let liveSeconds { try TimeOptionParsing.check(liveSeconds, in: 0...31_536_000, "live-seconds") }
        try TimeOptionParsing.check(burstThreats, in: 0...1_000_000, "burst-threats")
        try TimeOptionParsing.check(burstAfter, in: 0...86_400, "burst-after", unit: "seconds")
        guard (tlsCertificate == nil) == (tlsKey == nil) else {
            throw ValidationError("--tls-certificate and --tls-key go together")
        }
    }

    func run() async throws {
        var configuration = EmulatorConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.threats = threats
        configuration.seed = seed
        configuration.latency = .milliseconds(latencyMs)
        configuration.token = token
        configuration.addedPerSecond = addPerSecond
        configuration.updatedPerSecond = updatePerSecond
        configuration.lateUpdatedPerSecond = lateUpdatePerSecond
        configuration.liveDuration = liveSeconds.map { .seconds($0) }
        configuration.burstThreats = burstThreats
        configuration.burstAfter = .seconds(burstAfter)
        configuration.versionsLogPath = versionsLog
        configuration.tlsCertificatePath = tlsCertificate
        configuration.tlsKeyPath = tlsKey
        do {
            configuration.faults = try FaultPlan(faults)
        } catch {
            throw ValidationError("\(error)")
        }
        let logger = LogSetup.logger(label: "threatpipe.emulator", level: logLevel)
        let emulator = SentinelOneEmulator(configuration: configuration, logger: logger)
        let host = self.host
        let threats = self.threats
        let scheme = tlsCertificate == nil ? "http" : "https"
        try await emulator.run(handleSignals: true) { port in
            printOutput("threatpipe emulator: \(threats) threats, listening on \(scheme)://\(host):\(port)")
        }
    }
}
