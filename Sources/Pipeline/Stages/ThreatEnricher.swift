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
    public func run(
        from input: some AsyncSequence<ListedThreat, Never>,
        into output: BoundedChannel<EnrichedThreat>
    ) async {
        defer { output.finish() }
        await withTaskGroup(of: EnrichedThreat.self) { group in
            var running = 0
            for await threat in input {
                if running == concurrency, let done = await group.next() {
                    running -= 1
                    await output.send(done)
                }
                group.addTask { await enrich(threat) }
                running += 1
            }
            for await done in group {
                await output.send(done)
            }
        }
    }

    /// Joins one threat with its analysis and events.
    public func enrich(_ threat: ListedThreat) async -> EnrichedThreat {
        async let analysis = source.fetchAnalysis(of: threat)
        async let events = source.fetchEvents(of: threat)
        return EnrichedThreat(threat: threat, analysis: await analysis, events: await events)
    }
}
