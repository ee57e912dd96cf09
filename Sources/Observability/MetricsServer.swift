import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// The operations endpoint of `--metrics-listen`: `/metrics` (Prometheus text of every swift-metrics instrument),
/// `/healthz` (the process is alive) and `/readyz` (the work is going well, as ``Readiness`` says). A service of the
/// command's service group, registered first so that it shuts down last: the end of the work can still be scraped.
public struct MetricsServer: Service {
    /// The registry every swift-metrics instrument of the process reports to, once ``bootstrapMetrics()`` ran.
    public static let registry = PrometheusCollectorRegistry()

    /// Sends the process's swift-metrics instruments to ``registry``. Call once, before any instrument is used.
    public static func bootstrapMetrics() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }

    let host: String
    let port: Int
    let readiness: Readiness
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void

    /// - Parameter onListening: told the port once the server accepts connections (useful with port 0).
    public init(host: String, port: Int, readiness: Readiness, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void) {
        self.host = host
        self.port = port
        self.readiness = readiness
        self.logger = logger
        self.onListening = onListening
    }

    /// Serves until the service group shuts it down gracefully (or the task is cancelled).
    public func run() async throws {
        let onListening = self.onListening
        let router = Router()
        let readiness = self.readiness
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: Self.registry.emitToBuffer()))
            )
        }
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            let state = readiness.state
            let text = (state.isReady ? "ready" : "not ready: \(state.reason)") + "\n"
                + (state.detail.isEmpty ? "" : state.detail + "\n")
            return Response(
                status: state.isReady ? .ok : .serviceUnavailable,
                headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: text))
            )
        }
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "threatpipe"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: quiet
        )
        try await app.run()
    }
}
