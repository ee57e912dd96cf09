import Metrics

/// The pipeline's metrics, through swift-metrics (exported as Prometheus text when `--metrics-listen` is set;
/// no-ops otherwise).
public enum PipelineMetrics {
    /// `threatpipe_threats_fetched_total`: threats listed and sent on to enrichment.
    static let threatsFetched = Counter(label: "threatpipe_threats_fetched_total")
    /// `--emit changes`: versions acknowledged unsent without a single enrichment request.
    static let enrichmentSkipped = Counter(label: "threatpipe_enrichment_skipped_total")

    /// `threatpipe_records_emitted_total{sink}`: records written to a sink (acknowledgement may come later). Made
    /// once per sink, not per record: looking a counter up takes the registry's lock.
    static func recordsEmitted(sink: String) -> Counter {
        Counter(label: "threatpipe_records_emitted_total", dimensions: [("sink", sink)])
    }

    /// `threatpipe_enrichment_failures_total{part, kind}`: analyses or event lists not found (404) or failed.
    static func enrichmentFailure(part: String, kind: String) {
        Counter(label: "threatpipe_enrichment_failures_total", dimensions: [("part", part), ("kind", kind)]).increment()
    }

    /// `threatpipe_records_in_flight`: records fetched and not yet acknowledged by every sink — the sum of what
    /// waits in the pipeline's bounded queues, in enrichment and in the sinks.
    static let recordsInFlight = Gauge(label: "threatpipe_records_in_flight")

    /// `threatpipe_checkpoint_lag_seconds` (run): now minus the checkpoint's `updatedAt`; `{shard}` in a group.
    static func checkpointLag(_ dimensions: [(String, String)]) -> Gauge {
        Gauge(label: "threatpipe_checkpoint_lag_seconds", dimensions: dimensions)
    }

    /// `threatpipe_polls_total{outcome}` (run): polls that succeeded or failed; `{shard, outcome}` in a group.
    static func poll(succeeded: Bool, _ dimensions: [(String, String)]) {
        Counter(label: "threatpipe_polls_total", dimensions: dimensions + [("outcome", succeeded ? "success" : "failure")]).increment()
    }

    /// `threatpipe_consecutive_failures` (run): polls failed in a row, 0 once one succeeds; `{shard}` in a group,
    /// where a shard's run that failed before polling counts too.
    public static func consecutiveFailures(_ dimensions: [(String, String)]) -> Gauge {
        Gauge(label: "threatpipe_consecutive_failures", dimensions: dimensions)
    }

    /// `threatpipe_reenrichment_total{outcome}` (run): incomplete versions scheduled for re-enrichment, and what
    /// became of them — succeeded, failed (tried again later), gave_up, superseded (a newer version), deleted,
    /// dropped (beyond the bound).
    static func reenrichment(_ outcome: String) {
        Counter(label: "threatpipe_reenrichment_total", dimensions: [("outcome", outcome)]).increment()
    }
}
