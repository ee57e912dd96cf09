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
        /// Sees each threat when it is numbered (sequence numbers start at 0 on every run).
        public var onFetched: (@Sendable (ListedThreat) -> Void)?
        /// Told the low watermark each time every record below it has been acknowledged by every sink.
        public var onWatermarkAdvanced: (@Sendable (UInt64) -> Void)?
        /// Set when the sinks outlive the pass (`run`): they were opened with this router's acknowledgers, the pass
        /// points the router at its tracker, and flushes the sinks at the end instead of closing them.
        public var openSinks: AcknowledgementRouter?

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

    public init(source: Source, encoder: any RecordEncoder, sinks: [any RecordSink], configuration: Configuration) {
        precondition(!sinks.isEmpty, "at least one sink")
        self.source = source
        self.encoder = encoder
        self.sinks = sinks
        self.configuration = configuration
    }

    /// Runs the pass to its end. Throws when the source or a sink fails, or when a record was not acknowledged by
    /// every sink.
    public func run() async throws -> ExportSummary {
        let tracker = AcknowledgementTracker(
            sinkCount: sinks.count,
            onWatermarkAdvanced: configuration.onWatermarkAdvanced
        )
        if let router = configuration.openSinks {
            router.route(to: tracker)
        } else {
            for (index, sink) in sinks.enumerated() {
                do {
                    try await sink.open(acknowledger: tracker.acknowledger(forSink: index))
                } catch {
                    throw PipelineError.sinkFailed(sink, error)
                }
            }
        }
        let fetched = BoundedChannel<ListedThreat>(capacity: configuration.fetchedCapacity, name: "fetched")
        let enriched = BoundedChannel<EnrichedThreat>(capacity: configuration.enrichedCapacity, name: "enriched")
        let fetcher = ThreatFetcher(
            source: source,
            tracker: tracker,
            stop: configuration.stop,
            onFetched: configuration.onFetched
        )
        let enricher = ThreatEnricher(source: source, concurrency: configuration.concurrency)
        let writer = RecordWriter(
            encoder: encoder,
            sinks: sinks,
            failOnEnrichmentError: configuration.failOnEnrichmentError,
            atEnd: configuration.openSinks == nil ? .close : .flush
        )

        var summary = ExportSummary()
        try await withThrowingTaskGroup(of: StageResult.self) { group in
            group.addTask { .fetched(try await fetcher.run(into: fetched)) }
            group.addTask {
                .enriched(withdrawn: await enricher.run(from: fetched.elements, into: enriched))
            }
            group.addTask { .written(try await writer.run(from: enriched.elements)) }
            do {
                for try await result in group {
                    switch result {
                    case .fetched(let fetch): summary.fetch = fetch
                    case .enriched(let withdrawn): summary.withdrawn = withdrawn
                    case .written(let write): summary.write = write
                    }
                }
            } catch {
                group.cancelAll()
                if configuration.openSinks == nil {
                    // The pass owns its sinks: released on the failure path too (a producer, a descriptor).
                    for sink in sinks { try? await sink.close() }
                }
                throw error
            }
        }
        let acknowledgements = tracker.snapshot
        summary.acknowledgedPerSink = acknowledgements.acknowledgedCount
        if summary.withdrawn > 0 {
            // A stop withdrew threats it had fetched: the pass ends short of the list, as if stopped before them.
            summary.fetch.stoppedEarly = true
        }
        guard acknowledgements.inFlightCount == summary.withdrawn,
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
        case enriched(withdrawn: Int)
        case written(WriteSummary)
    }
}

/// What one pass did.
public struct ExportSummary: Sendable, Equatable {
    public var fetch = FetchSummary()
    public var write = WriteSummary()
    /// Records acknowledged by each sink, in sink order.
    public var acknowledgedPerSink: [UInt64] = []
    /// Threats fetched but withdrawn because a stop came before their enrichment could be requested: not
    /// delivered, not acknowledged, so the checkpoint stays before them.
    public var withdrawn = 0

    public init() {}
}
