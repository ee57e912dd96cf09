import CoreMetrics
/// The last stage: encodes each enriched threat once and writes it to every sink, in turn; at the end of input,
/// closes or flushes the sinks (as their ``DeliveryPass`` says) so that they make their data durable and acknowledge it.
public struct RecordWriter: Sendable {
    let encoder: any RecordEncoder
    let sinks: [any RecordSink]
    let failOnEnrichmentError: Bool
    let closesSinksAtEnd: Bool
    /// Says each record's change and whether it is sent (`run` with state); nil: every record is sent as it is.
    let changes: ChangeLedger?
    /// Where the writer acknowledges an unsent record for each sink that does not take unsent records (required: a
    /// writer without it would leave those records unacknowledged for ever).
    let tracker: AcknowledgementTracker

    public init(
        encoder: any RecordEncoder, sinks: [any RecordSink], failOnEnrichmentError: Bool = false, closesSinksAtEnd: Bool = false,
        changes: ChangeLedger? = nil, tracker: AcknowledgementTracker
    ) {
        self.changes = changes
        self.tracker = tracker
        self.encoder = encoder
        self.sinks = sinks
        self.failOnEnrichmentError = failOnEnrichmentError
        self.closesSinksAtEnd = closesSinksAtEnd
    }

    /// Writes every threat of `input`; returns what was written.
    ///
    /// With several sinks, each has a lane of its own (a bounded channel and a task), so that a slow sink — an
    /// NDJSON fsync — never holds up another; each sink still sees the records in order, and a full lane pushes
    /// back on the pipeline like any edge. One sink is written directly.
    public func run(from input: some AsyncSequence<EnrichedThreat, Never> & Sendable) async throws -> WriteSummary {
        guard sinks.count > 1 else {
            let sink = sinks[0]
            let emitted = PipelineMetrics.recordsEmitted(sink: sink.name)
            let summary = try await encodeAll(input) { record in
                guard handsOver(record, to: 0) else { return }
                try await Self.write(record, to: sink)
                if record.isSent { emitted.increment() }
            }
            try await finish(sink)
            return summary
        }
        let lanes = sinks.map { BoundedChannel<EncodedRecord>(capacity: Self.laneCapacity, name: "sink:\($0.name)") }
        return try await withThrowingTaskGroup(of: WriteSummary?.self) { group in
            for (sink, lane) in zip(sinks, lanes) {
                group.addTask {
                    let emitted = PipelineMetrics.recordsEmitted(sink: sink.name)
                    for await record in lane.elements {
                        try await Self.write(record, to: sink)
                        if record.isSent { emitted.increment() }
                    }
                    try Task.checkCancellation()
                    try await finish(sink)
                    return nil
                }
            }
            group.addTask {
                defer { lanes.forEach { $0.finish() } }
                return try await encodeAll(input) { record in
                    for (index, lane) in lanes.enumerated() where handsOver(record, to: index) { await lane.send(record) }
                    try Task.checkCancellation()
                }
            }
            var summary = WriteSummary()
            do {
                // The first failure (a sink's, or an enrichment failure the export must fail on) ends every lane.
                for try await result in group {
                    if let result { summary = result }
                }
            } catch {
                group.cancelAll()
                lanes.forEach { $0.finish() }
                throw error
            }
            return summary
        }
    }

    /// Whether sink number `index` is handed `record`: a sent one always; an unsent one only when the sink takes unsent
    /// records — otherwise the writer acknowledges it for the sink here, and the sink never sees it.
    private func handsOver(_ record: EncodedRecord, to index: Int) -> Bool {
        guard !record.isSent, !sinks[index].takesUnsentRecords else { return true }
        tracker.acknowledge(record.sequence, sink: index)
        return false
    }

    /// Records waiting for one sink when there are several.
    static let laneCapacity = 16

    /// Encodes each threat of `input` once and hands the record to `deliver`, counting what was written.
    private func encodeAll(
        _ input: some AsyncSequence<EnrichedThreat, Never>,
        deliver: (EncodedRecord) async throws -> Void
    ) async throws -> WriteSummary {
        var summary = WriteSummary()
        for await enriched in input {
            if failOnEnrichmentError {
                for (part, outcome) in [("analysis", enriched.analysis.failedFailure), ("events", enriched.events.failedFailure)] {
                    guard let failure = outcome else { continue }
                    throw PipelineError(
                        code: .enrichmentFailed,
                        message: "the \(part) of threat \(enriched.threat.id) could not be fetched: \(failure.message)",
                        underlying: failure
                    )
                }
            }
            try await deliver(encode(enriched, summary: &summary))
            summary.count(enriched)
        }
        return summary
    }

    /// The record of `enriched`: with its change when the run keeps state, and not encoded at all when
    /// `--emit changes` does not send it.
    private func encode(_ enriched: EnrichedThreat, summary: inout WriteSummary) async throws -> EncodedRecord {
        guard let changes, let decided = enriched.threat.decided else { return encoder.encode(enriched) }
        var enriched = enriched
        let (change, entry) = (decided.change, decided.entry)
        enriched.change = change
        var record: EncodedRecord
        if changes.emit == .changes, !change.isWorthSending {
            let threat = enriched.threat
            record = EncodedRecord(sequence: threat.sequence, key: threat.id, payload: .unsent, updatedAt: threat.updatedAt)
            summary.suppressed += 1
        } else {
            record = encoder.encode(enriched)
        }
        record.threatState = entry
        return record
    }

    private static func write(_ record: EncodedRecord, to sink: any RecordSink) async throws {
        do {
            try await sink.write(record)
        } catch {
            throw PipelineError.sinkFailed(sink, error)
        }
    }

    /// Closes or flushes `sink` at the end of input.
    private func finish(_ sink: any RecordSink) async throws {
        do {
            if closesSinksAtEnd {
                try await sink.close()
            } else {
                try await sink.flush()
            }
        } catch {
            throw PipelineError.sinkFailed(sink, error)
        }
    }
}

/// Counts of what reached the sinks.
public struct WriteSummary: Sendable, Equatable {
    public var records = 0
    public var analysisNotFound = 0
    public var analysisFailed = 0
    public var eventsNotFound = 0
    public var eventsFailed = 0
    public var eventsTruncated = 0
    public var events = 0
    /// Of the records, those `--emit changes` acknowledged without sending (nothing tracked changed).
    public var suppressed = 0

    public init() {}

    mutating func count(_ threat: EnrichedThreat) {
        records += 1
        switch threat.analysis {
        case .fetched, .notRequested: break
        case .notFound:
            analysisNotFound += 1
            PipelineMetrics.enrichmentFailure(part: "analysis", kind: "not_found")
        case .failed, .stopped:
            analysisFailed += 1
            PipelineMetrics.enrichmentFailure(part: "analysis", kind: "failed")
        }
        switch threat.events {
        case .fetched(let events):
            self.events += events.count
            if events.truncated { eventsTruncated += 1 }
        case .notRequested: break
        case .notFound:
            eventsNotFound += 1
            PipelineMetrics.enrichmentFailure(part: "events", kind: "not_found")
        case .failed, .stopped:
            eventsFailed += 1
            PipelineMetrics.enrichmentFailure(part: "events", kind: "failed")
        }
    }
}

extension PipelineError {
    /// `sink` failed with `error`: the message names the sink once.
    static func sinkFailed(_ sink: any RecordSink, _ error: any Error) -> PipelineError {
        PipelineError(code: .sinkFailed, message: "\(sink.name): \(error)", underlying: error)
    }
}
