/// One output record as bytes, ready for every sink.
public struct EncodedRecord: Sendable {
    /// The threat's fetch-order sequence number; sinks acknowledge by it.
    public var sequence: UInt64
    /// The threat id: the Kafka message key, the log reference.
    public var key: String
    /// The record, one JSON object without a trailing newline.
    public var bytes: [UInt8]
    /// The threat version's `threatInfo.updatedAt`, when the API gave one.
    public var updatedAt: String?
    /// `--emit changes` does not send this version (nothing tracked changed): each sink acknowledges it without
    /// writing it (the transactional sink still commits its state); `bytes` is empty.
    public var suppressed = false
    /// The threat's state once this version is delivered: what the transactional sink commits to the state topic
    /// with the record. nil without state.
    public var state: ThreatStateEntry?

    public init(sequence: UInt64, key: String, bytes: [UInt8], updatedAt: String? = nil) {
        self.sequence = sequence
        self.key = key
        self.bytes = bytes
        self.updatedAt = updatedAt
    }

    /// `<threat id>:<updatedAt>`: the version this record carries, stable across deliveries of it.
    public var versionID: String { Self.versionID(id: key, updatedAt: updatedAt) }

    /// `<threat id>:<updatedAt>`: one version of a threat, stable across deliveries — a document id downstream
    /// (`meta.versionId` in every format, the `threatpipe-version-id` Kafka header).
    public static func versionID(id: String, updatedAt: String?) -> String { "\(id):\(updatedAt ?? "")" }
}
