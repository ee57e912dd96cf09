/// A threat joined with its analysis and explore events: what the encoder turns into one record.
public struct EnrichedThreat: Sendable {
    public var threat: ListedThreat
    /// The analysis response's `data` object, compact JSON.
    public var analysis: EnrichmentOutcome<[UInt8]>
    public var events: EnrichmentOutcome<ThreatEvents>
    /// What changed since the version delivered before (`run` with state); nil without state (`export`).
    public var change: ThreatChange?

    public init(threat: ListedThreat, analysis: EnrichmentOutcome<[UInt8]>, events: EnrichmentOutcome<ThreatEvents>) {
        self.threat = threat
        self.analysis = analysis
        self.events = events
    }
}
