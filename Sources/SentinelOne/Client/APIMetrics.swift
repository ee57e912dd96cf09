import Metrics
import Pipeline

/// The API client's metrics, through swift-metrics (Prometheus text with `--metrics-listen`; no-ops otherwise).
enum APIMetrics {
    /// `threats`, `analysis` or `events`, from the request path.
    static func endpoint(of path: String) -> String {
        if path.hasSuffix("/analysis") { return "analysis" }
        if path.hasSuffix("/explore/events") { return "events" }
        return "threats"
    }

    /// `threatpipe_api_requests_total{endpoint, status}`: answers by HTTP status, or `error` when none came.
    static func request(path: String, status: Int?) {
        Counter(
            label: "threatpipe_api_requests_total",
            dimensions: [("endpoint", endpoint(of: path)), ("status", status.map(String.init) ?? "error")]
        ).increment()
    }

    /// `threatpipe_api_retries_total{endpoint}`.
    static func retry(path: String) {
        Counter(label: "threatpipe_api_retries_total", dimensions: [("endpoint", endpoint(of: path))]).increment()
    }

    /// `threatpipe_rate_limit_wait_seconds_total`: time requests spent waiting for the rate limiter.
    static let rateLimitWait = FloatingPointCounter(label: "threatpipe_rate_limit_wait_seconds_total")

    /// `threatpipe_rate_limit_current`: the requests per second the adaptive limiter allows now.
    static let currentRate = Gauge(label: "threatpipe_rate_limit_current")
}
