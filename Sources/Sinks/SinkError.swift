import Kafka
import Pipeline
/// A sink that could not take or keep a record.
public struct SinkError: Error, Sendable, CustomStringConvertible {
    /// The sink: a file's path (`ndjson:…` sinks, the dead-letter file) or `kafka:<topic>`.
    public var sink: String
    public var message: String
    /// The sink rejected a record for good: sending it again can never succeed (too large, invalid, a topic that
    /// does not exist or may not be written). `run` stops on it rather than retrying for ever.
    public var isPermanent: Bool

    public init(sink: String, message: String, isPermanent: Bool = false) {
        self.sink = sink
        self.message = message
        self.isPermanent = isPermanent
    }

    /// The message alone: the pipeline names the sink.
    public var description: String { message }
}

extension SinkError: ClassifiedError {
    public var kind: FailureKind { isPermanent ? .rejectedRecord : .sink }
}

extension KafkaError: ClassifiedError {
    /// A refused property is configuration; a fenced producer must stop; everything else the Kafka sink meets is a
    /// sink failure.
    public var kind: FailureKind {
        if isFenced { return .fenced }
        return code == .invalidConfiguration ? .configuration : .sink
    }
}
