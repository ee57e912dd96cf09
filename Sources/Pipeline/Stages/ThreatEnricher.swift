/// The second stage: fetches the analysis and the explore events of up to `concurrency` threats at once (a threat's
/// two parts concurrently) and sends the joined threats on as they complete, not in fetch order.
///
/// With state (`run`), each threat's change is decided first, in fetch order, as it arrives; with `--emit changes` a
/// version that changed nothing tracked is sent on at once with its parts not requested (its record is acknowledged
/// unsent): the change lies in the listed threat, so it costs no enrichment request.
public struct ThreatEnricher<Source: ThreatSource>: Sendable {
    let source: Source
    let concurrency: Int
    let changes: ChangeLedger?

    public init(source: Source, concurrency: Int, changes: ChangeLedger? = nil) {
        precondition(concurrency >= 1, "concurrency is at least 1")
        self.source = source
        self.concurrency = concurrency
        self.changes = changes
    }

    /// What the stage did besides enriching.
    public struct Summary: Sendable, Equatable {
        /// Threats withdrawn: a stop came before their parts were requested.
        public var withdrawn = 0
        /// Versions that changed nothing tracked, sent on without requesting their parts (`--emit changes`).
        public var skipped = 0
    }

    /// Enriches every threat of `input` into `output`; finishes `output` when `input` ends.
    ///
    /// A threat whose analysis or events were not fetched because a stop came while their request waited (for a
    /// rate-limit token, for a retry) is withdrawn: not sent on, so never acknowledged, and the checkpoint stays
    /// before it. Sending it without its parts would deliver a record that only says "stopping".
    /// Throws when a change cannot be decided (the threat state cannot be read, or saves have failed too long).
    public func run(
        from input: some AsyncSequence<ListedThreat, Never>,
        into output: BoundedChannel<EnrichedThreat>
    ) async throws -> Summary {
        defer { output.finish() }
        return try await withThrowingTaskGroup(of: EnrichedThreat.self) { group in
            var running = 0
            var summary = Summary()
            func pass(_ done: EnrichedThreat) async {
                if done.analysis.isStopped || done.events.isStopped {
                    summary.withdrawn += 1
                } else {
                    await output.send(done)
                }
            }
            for await listed in input {
                var threat = listed
                if let changes {
                    let (change, entry) = try await changes.detect(threat)
                    threat.decided = DecidedChange(change: change, entry: entry)
                    // A version enriched again was sent before: it is enriched whatever its change.
                    if changes.emit == .changes, !change.isWorthSending, threat.reenrichmentAttempt == nil {
                        summary.skipped += 1
                        await output.send(EnrichedThreat(threat: threat, analysis: .notRequested, events: .notRequested))
                        continue
                    }
                }
                if running == concurrency, let done = try await group.next() {
                    running -= 1
                    await pass(done)
                }
                group.addTask { [threat] in await enrich(threat) }
                running += 1
            }
            for try await done in group {
                await pass(done)
            }
            return summary
        }
    }

    /// Joins one threat with its analysis and events.
    public func enrich(_ threat: ListedThreat) async -> EnrichedThreat {
        async let analysis = source.fetchAnalysis(of: threat)
        async let events = source.fetchEvents(of: threat)
        return EnrichedThreat(threat: threat, analysis: await analysis, events: await events)
    }
}
