/// A destination of records. A sink acknowledges a record through its ``SinkAcknowledger`` once the record is
/// durable there (written to stdout, fsynced to a file, delivered to Kafka) — possibly long after `write` returned.
public protocol RecordSink: Sendable {
    /// A short name for logs and errors, e.g. `ndjson:/var/lib/threatpipe/out.ndjson`.
    var name: String { get }
    /// Prepares the sink; `acknowledger` is how it reports durable records.
    func open(acknowledger: SinkAcknowledger) async throws
    /// Accepts a record; suspends while the destination is behind (backpressure).
    func write(_ record: EncodedRecord) async throws
    /// Makes everything written so far durable and acknowledges it; the sink stays open for more records (`run`
    /// flushes its long-lived sinks at the end of every poll).
    func flush() async throws
    /// Makes everything written durable, acknowledges it, and releases the destination. Safe to call again, and
    /// after a failure.
    func close() async throws
    /// Whether the sink is handed records that are not sent (``EncodedRecord/Payload/unsent``). false (the default):
    /// the writer acknowledges them for it, and the sink never sees one. The transactional Kafka sink takes them: it
    /// commits each one's state entry and the checkpoint past it in its transaction.
    var takesUnsentRecords: Bool { get }
}

extension RecordSink {
    public var takesUnsentRecords: Bool { false }
}
