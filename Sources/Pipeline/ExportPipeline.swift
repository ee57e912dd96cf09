/// One pass over the source: fetcher → enricher → record writer, joined by bounded channels, with every record
/// tracked until every sink has acknowledged it.
///
/// Memory is bounded by the channel capacities, the enrichment concurrency and the sinks' buffers — never by the
/// number of threats.
public struct ExportPipeline<Source: ThreatSource>: Sendable {
    /// Channel capacities and enrichment concurrency.
    public struct Configuration: Sendable {
        /// Threats enriched at once.
        public var concurrency: Int
        /// Listed threats waiting for enrichment.
        public var fetchedCapacity: Int
        /// Enriched threats waiting for the sinks.
        public var enrichedCapacity: Int

        /// Stop the export when a threat's analysis or events fail (not when the threat was deleted: 404).
        public var failOnEnrichmentError = false
        /// Raised to stop fetching; what was fetched is still delivered.
        public var stop: StopSignal?

        public init(concurrency: Int = 8, fetchedCapacity: Int = 256, enrichedCapacity: Int = 64) {
            self.concurrency = concurrency
            self.fetchedCapacity = fetchedCapacity
            self.enrichedCapacity = enrichedCapacity
        }
    }

    let source: Source
    let encoder: any RecordEncoder
    let sinks: [any RecordSink]
    let configuration: Configuration

    /// A pass over `source`, encoded by `encoder`, into `sinks` (a session's pass's: ``run(through:)`` writes to the
    /// pass's).
    public init(source: Source, encoder: any RecordEncoder, sinks: [any RecordSink], configuration: Configuration) {
        precondition(!sinks.isEmpty, "at least one sink")
        self.source = source
        self.encoder = encoder
        self.sinks = sinks
        self.configuration = configuration
    }

    /// Runs the pass to its end through `pass` (a session's open sinks: closed at its end when they live for this pass only — `export` — and flushed otherwise). Throws when
    /// the source or a sink fails, or when a record was not acknowledged by every sink.
    public func run(through pass: DeliveryPass) async throws -> ExportSummary {
        let tracker = pass.tracker
        let sinks = pass.sinks
        let fetched = BoundedChannel<ListedThreat>(capacity: configuration.fetchedCapacity, name: "fetched")
        let enriched = BoundedChannel<EnrichedThreat>(capacity: configuration.enrichedCapacity, name: "enriched")
        let fetcher = ThreatFetcher(
            source: source,
            tracker: tracker,
            stop: configuration.stop,
            onFetched: { pass.fetched($0) }
        )
        let enricher = ThreatEnricher(source: source, concurrency: configuration.concurrency, changes: pass.changes)
        let writer = RecordWriter(
            encoder: encoder,
            sinks: sinks,
            failOnEnrichmentError: configuration.failOnEnrichmentError,
            closesSinksAtEnd: pass.closesSinksAtEnd,
            changes: pass.changes,
            tracker: tracker
        )

        var summary = ExportSummary()
        try await withThrowingTaskGroup(of: StageResult.self) { group in
            group.addTask { .fetched(try await fetcher.run(into: fetched)) }
            group.addTask {
                .enriched(try await enricher.run(from: fetched.elements, into: enriched))
            }
            group.addTask { .written(try await writer.run(from: enriched.elements)) }
            do {
                for try await result in group {
                    switch result {
                    case .fetched(let fetch): summary.fetch = fetch
                    case .enriched(let enrich):
                        summary.withdrawn = enrich.withdrawn
                        summary.enrichmentSkipped = enrich.skipped
                    case .written(let write): summary.write = write
                    }
                }
            } catch {
                // The session flushes or closes the sinks.
                group.cancelAll()
                throw error
            }
        }
        let acknowledgements = tracker.snapshot
        summary.acknowledgedPerSink = acknowledgements.acknowledgedCount
        summary.deadLetteredPerSink = acknowledgements.deadLetteredCount
        if summary.withdrawn > 0 {
            // A stop withdrew threats it had fetched: the pass ends short of the list, as if stopped before them.
            summary.fetch.stoppedEarly = true
        }
        // Unacknowledged at the end: exactly the withdrawn records — or, after a stop withdrew some, also records a
        // sink that delivers in sequence (the transactional one) held back behind them. Neither is acknowledged, so
        // the checkpoint stays before the first; anything else is a sink that lost a record.
        let unacknowledgedAsExpected = summary.withdrawn > 0
            ? acknowledgements.inFlightCount >= summary.withdrawn : acknowledgements.inFlightCount == 0
        guard unacknowledgedAsExpected,
            summary.write.records + summary.withdrawn == summary.fetch.threats
        else {
            throw PipelineError(
                code: .unacknowledged,
                message: "\(acknowledgements.inFlightCount) of \(acknowledgements.registeredCount) records were "
                    + "not acknowledged by every sink"
            )
        }
        return summary
    }

    private enum StageResult: Sendable {
        case fetched(FetchSummary)
        case enriched(ThreatEnricher<Source>.Summary)
        case written(WriteSummary)
    }
}

/// What one pass did.
public struct ExportSummary: Sendable, Equatable {
    public var fetch = FetchSummary()
    public var write = WriteSummary()
    /// Records acknowledged by each sink, in sink order.
    public var acknowledgedPerSink: [UInt64] = []
    /// Of those, records each sink wrote to the dead-letter file instead.
    public var deadLetteredPerSink: [UInt64] = []
    /// Threats fetched but withdrawn because a stop came before their enrichment could be requested: not
    /// delivered, not acknowledged, so the checkpoint stays before them.
    public var withdrawn = 0
    /// Versions that changed nothing tracked, acknowledged unsent without a single enrichment request
    /// (`--emit changes`).
    public var enrichmentSkipped = 0

    public init() {}
}
