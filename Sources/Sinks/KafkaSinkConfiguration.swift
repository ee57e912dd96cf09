/// Where and how the Kafka sink produces.
public struct KafkaSinkConfiguration: Sendable {
    /// `host:port[,host:port…]`.
    public var brokers: String
    public var topic: String
    /// librdkafka properties given by the user (`--kafka-property key=value`); they override the defaults.
    public var properties: [(key: String, value: String)]
    /// Headers on every message.
    public var headers: [(String, String)]
    /// How long closing may wait for outstanding deliveries.
    public var flushTimeout: Duration

    /// threatpipe's defaults, chosen so that no record can be lost silently:
    /// every in-sync replica acknowledges (`acks=all`); retries cannot duplicate or reorder
    /// (`enable.idempotence=true`, which Debian's librdkafka 2.0.2 leaves off), and one request in flight per broker
    /// so that a batch whose request timed out is retried to an answer before the next one is sent (with more,
    /// librdkafka counts it delivered when a later batch succeeds, which loses it if the broker did not keep it);
    /// a message that cannot be delivered within five minutes fails the export loudly rather than vanishing
    /// (`message.timeout.ms`); and librdkafka's local queue is capped (32 MiB, 10,000 messages) so that a slow
    /// broker pushes back on the pipeline instead of filling memory. A record may be several megabytes (a threat with a thousand events), so messages up to
    /// 16 MiB are allowed (`message.max.bytes`); the topic's `max.message.bytes` must allow them too, or use
    /// `--max-events`.
    public static let defaultProperties: [(key: String, value: String)] = [
        ("acks", "all"),
        ("enable.idempotence", "true"),
        ("max.in.flight.requests.per.connection", "1"),
        ("compression.codec", "lz4"),
        ("linger.ms", "5"),
        ("message.timeout.ms", "300000"),
        ("queue.buffering.max.kbytes", "32768"),
        ("queue.buffering.max.messages", "10000"),
        ("message.max.bytes", "16777216"),
    ]

    public init(
        brokers: String,
        topic: String,
        properties: [(key: String, value: String)] = [],
        headers: [(String, String)] = [],
        flushTimeout: Duration = .seconds(30)
    ) {
        self.brokers = brokers
        self.topic = topic
        self.properties = properties
        self.headers = headers
        self.flushTimeout = flushTimeout
    }

    /// Defaults, then the brokers, then the user's properties: later ones win in librdkafka.
    var effectiveProperties: [(key: String, value: String)] {
        Self.defaultProperties + [("bootstrap.servers", brokers)] + properties
    }
}
