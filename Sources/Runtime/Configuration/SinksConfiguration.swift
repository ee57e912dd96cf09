import Formats
import Logging
import Pipeline
import Sinks

/// Where records go and in which format: the sinks `export` and `run` open, in order.
public struct SinksConfiguration: Sendable {
    /// One sink and its settings.
    public enum Sink: Sendable {
        case stdout
        case ndjson(path: String, rotation: FileRotationSettings)
        case kafka(KafkaSinkSettings)

        /// `stdout`, `ndjson` or `kafka`.
        public var kind: String {
            switch self {
            case .stdout: "stdout"
            case .ndjson: "ndjson"
            case .kafka: "kafka"
            }
        }
    }

    /// The sinks, in order; each kind at most once.
    public var sinks: [Sink]
    /// The record format every sink gets.
    public var format: OutputFormat
    /// The file records a sink rejects for good are appended to; nil: such a record stops the export.
    public var deadLetterPath: String?

    public init(sinks: [Sink], format: OutputFormat = .raw, deadLetterPath: String? = nil) {
        self.sinks = sinks
        self.format = format
        self.deadLetterPath = deadLetterPath
    }

    /// Whether records go to standard output (then nothing else may be drawn there).
    public var usesStdout: Bool { sinks.contains { $0.kind == "stdout" } }

    /// The dead-letter file, opened, when one is configured; the caller closes it.
    func makeDeadLetterFile(logger: Logger) throws -> DeadLetterFile? {
        try deadLetterPath.map { try DeadLetterFile(path: $0, logger: logger) }
    }

    /// Fresh sinks, in order, not yet opened.
    /// `sharedKafka`: the producer the Kafka sink writes on with others (a group's shards); nil: its own.
    func makeSinks(logger: Logger, deadLetters: DeadLetterFile?, sharedKafka: SharedKafkaSinkProducer? = nil) -> [any RecordSink] {
        sinks.map { sink in
            switch sink {
            case .stdout: return StdoutSink()
            case .ndjson(let path, let rotation): return NDJSONFileSink(path: path, rotation: rotation.rotation)
            case .kafka(let configuration):
                return KafkaSink(configuration: configuration.sinkConfiguration, deadLetters: deadLetters, shared: sharedKafka, logger: logger)
            }
        }
    }
}
