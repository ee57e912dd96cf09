import Metrics

/// The Kafka sink's metrics, through swift-metrics (Prometheus text with `--metrics-listen`; no-ops otherwise).
enum KafkaSinkMetrics {
    /// `threatpipe_kafka_delivery_seconds`: produce to delivery report, as librdkafka measured it.
    static let deliveryLatency = Timer(label: "threatpipe_kafka_delivery_seconds")
    /// `threatpipe_kafka_in_flight`: messages produced and not yet reported.
    static let inFlight = Gauge(label: "threatpipe_kafka_in_flight")
    /// `threatpipe_kafka_delivery_failures_total`: messages librdkafka gave up on.
    static let deliveryFailures = Counter(label: "threatpipe_kafka_delivery_failures_total")
}
