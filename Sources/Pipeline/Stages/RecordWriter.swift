/// The last stage: encodes each enriched threat once and writes it to every sink, in turn; closes (or flushes) the
/// sinks at the end of input so that they make their data durable and acknowledge it.
public struct RecordWriter: Sendable {
    /// What the writer does with the sinks at the end of input.
    public enum AtEnd: Sendable {
        /// Close them: the pass owns them (`export`).
        case close
        /// Flush them and leave them open: they outlive the pass (`run`).
        case flush
    }

    let encoder: any RecordEncoder
    let sinks: [any RecordSink]
    let failOnEnrichmentError: Bool
    let atEnd: AtEnd

    public init(encoder: any RecordEncoder, sinks: [any RecordSink], failOnEnrichmentError: Bool = false, atEnd: AtEnd = .close) {
        self.encoder = encoder
        self.sinks = sinks
        self.failOnEnrichmentError = failOnEnrichmentError
        self.atEnd = atEnd
    }

    /// Writes every threat of `input`; returns what was written.
    public func run(from input: some AsyncSequence<EnrichedThreat, Never>) async throws -> WriteSummary {
        var summary = WriteSummary()
        let emitted = sinks.map { PipelineMetrics.recordsEmitted(sink: $0.name) }
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
            let record = encoder.encode(enriched)
            for (sink, emitted) in zip(sinks, emitted) {
                do {
                    try await sink.write(record)
                } catch {
                    throw PipelineError.sinkFailed(sink, error)
                }
                emitted.increment()
            }
            summary.count(enriched)
        }
        for sink in sinks {
            do {
                switch atEnd {
                case .close: try await sink.close()
                case .flush: try await sink.flush()
                }
            } catch {
                throw PipelineError.sinkFailed(sink, error)
            }
        }
        return summary
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

    public init() {}

    mutating func count(_ threat: EnrichedThreat) {
        records += 1
        switch threat.analysis {
        case .fetched: break
        case .notFound:
            analysisNotFound += 1
            PipelineMetrics.enrichmentFailure(part: "analysis", kind: "not_found")
        case .failed:
            analysisFailed += 1
            PipelineMetrics.enrichmentFailure(part: "analysis", kind: "failed")
        }
        switch threat.events {
        case .fetched(let events):
            self.events += events.count
            if events.truncated { eventsTruncated += 1 }
        case .notFound:
            eventsNotFound += 1
            PipelineMetrics.enrichmentFailure(part: "events", kind: "not_found")
        case .failed:
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
