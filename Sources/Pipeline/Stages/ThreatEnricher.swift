/// The second stage: fetches the analysis and the explore events of up to `concurrency` threats at once (a threat's
/// two parts concurrently) and sends the joined threats on as they complete, not in fetch order.
public struct ThreatEnricher<Source: ThreatSource>: Sendable {
    let source: Source
    let concurrency: Int

    public init(source: Source, concurrency: Int) {
        precondition(concurrency >= 1, "concurrency is at least 1")
        self.source = source
        self.concurrency = concurrency
    }

    /// Enriches every threat of `input` into `output`; finishes `output` when `input` ends.
    ///
    /// A threat whose analysis or events were not fetched because a stop came while their request waited (for a
    /// rate-limit token, for a retry) is withdrawn: not sent on, so never acknowledged, and the checkpoint stays
    /// before it. Sending it without its parts would deliver a record that only says "stopping".
    /// - Returns: how many threats were withdrawn.
    public func run(
        from input: some AsyncSequence<ListedThreat, Never>,
        into output: BoundedChannel<EnrichedThreat>
    ) async -> Int {
        defer { output.finish() }
        return await withTaskGroup(of: EnrichedThreat.self) { group in
            var running = 0
            var withdrawn = 0
            func pass(_ done: EnrichedThreat) async {
                if done.analysis.isStopped || done.events.isStopped {
                    withdrawn += 1
                } else {
                    await output.send(done)
                }
            }
            for await threat in input {
                if running == concurrency, let done = await group.next() {
                    running -= 1
                    await pass(done)
                }
                group.addTask { await enrich(threat) }
                running += 1
            }
            for await done in group {
                await pass(done)
            }
            return withdrawn
        }
    }

    /// Joins one threat with its analysis and events.
    public func enrich(_ threat: ListedThreat) async -> EnrichedThreat {
        async let analysis = source.fetchAnalysis(of: threat)
        async let events = source.fetchEvents(of: threat)
        return EnrichedThreat(threat: threat, analysis: await analysis, events: await events)
    }
}
