/// One output record as bytes, ready for every sink.
public struct EncodedRecord: Sendable {
    /// The threat's fetch-order sequence number; sinks acknowledge by it.
    public var sequence: UInt64
    /// The threat id: the Kafka message key, the log reference.
    public var key: String
    /// What goes to the destination: the record's bytes, or nothing (`--emit changes` does not send a version that
    /// changed nothing tracked).
    public enum Payload: Sendable, Equatable {
        /// The record, one JSON object without a trailing newline.
        case send([UInt8])
        /// Not sent: acknowledged without a write. Only a sink that declares ``RecordSink/takesUnsentRecords`` (the
        /// transactional one: it commits the version's state and the checkpoint past it) is handed one; every other
        /// sink's acknowledgement is given by the writer.
        case unsent
    }

    public var payload: Payload
    /// The threat version's `threatInfo.updatedAt`, when the API gave one.
    public var updatedAt: String?
    /// The threat's state once this version is delivered: what the transactional sink commits to the state topic
    /// with the record. nil when changes are not tracked.
    public var threatState: ThreatStateEntry?

    public init(sequence: UInt64, key: String, bytes: [UInt8], updatedAt: String? = nil) {
        self.init(sequence: sequence, key: key, payload: .send(bytes), updatedAt: updatedAt)
    }

    public init(sequence: UInt64, key: String, payload: Payload, updatedAt: String? = nil) {
        self.sequence = sequence
        self.key = key
        self.payload = payload
        self.updatedAt = updatedAt
    }

    /// The bytes to send; empty for an unsent record.
    public var bytes: [UInt8] {
        if case .send(let bytes) = payload { bytes } else { [] }
    }

    /// Whether the record is sent (its payload is bytes).
    public var isSent: Bool {
        if case .unsent = payload { false } else { true }
    }

    /// `<threat id>:<updatedAt>`: the version this record carries, stable across deliveries of it.
    public var versionID: String { Self.versionID(id: key, updatedAt: updatedAt) }

    /// `<threat id>:<updatedAt>`: one version of a threat, stable across deliveries — a document id downstream
    /// (`meta.versionId` in every format, the `threatpipe-version-id` Kafka header).
    public static func versionID(id: String, updatedAt: String?) -> String { "\(id):\(updatedAt ?? "")" }
}
