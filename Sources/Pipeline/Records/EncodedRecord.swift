/// One output record as bytes, ready for every sink.
public struct EncodedRecord: Sendable {
    /// The threat's fetch-order sequence number; sinks acknowledge by it.
    public var sequence: UInt64
    /// The threat id: the Kafka message key, the log reference.
    public var key: String
    /// The record, one JSON object without a trailing newline.
    public var bytes: [UInt8]

    public init(sequence: UInt64, key: String, bytes: [UInt8]) {
        self.sequence = sequence
        self.key = key
        self.bytes = bytes
    }
}
