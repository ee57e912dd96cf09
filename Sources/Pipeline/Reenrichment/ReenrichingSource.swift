/// A poll's source with the versions enriched again in front: a first page of those threats (their analysis and
/// events already fetched, complete), then the poll's own pages. The re-enriched records go through the same
/// pipeline — encoded, written, acknowledged and checkpointed with the rest.
public struct ReenrichingSource<Base: ThreatSource>: ThreatSource {
    /// One re-enriched version: the current list item (its attempt number set) and its parts.
    public struct Reenriched: Sendable {
        var threat: ListedThreat
        var analysis: EnrichmentOutcome<[UInt8]>
        var events: EnrichmentOutcome<ThreatEvents>
    }

    let base: Base
    let reenriched: [String: Reenriched]
    /// The cursor that stands for the base's first page (no console cursor looks like it).
    static var firstBasePage: String { "\u{0}threatpipe:reenriched" }

    init(base: Base, reenriched: [Reenriched]) {
        self.base = base
        self.reenriched = Dictionary(reenriched.map { ($0.threat.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func fetchPage(cursor: String?) async throws -> ThreatPage {
        if cursor == nil, !reenriched.isEmpty {
            return ThreatPage(threats: reenriched.values.map(\.threat).sorted { $0.id < $1.id }, nextCursor: Self.firstBasePage)
        }
        return try await base.fetchPage(cursor: cursor == Self.firstBasePage ? nil : cursor)
    }

    public func fetchAnalysis(of threat: ListedThreat) async -> EnrichmentOutcome<[UInt8]> {
        if threat.reenrichmentAttempt != nil, let done = reenriched[threat.id] { return done.analysis }
        return await base.fetchAnalysis(of: threat)
    }

    public func fetchEvents(of threat: ListedThreat) async -> EnrichmentOutcome<ThreatEvents> {
        if threat.reenrichmentAttempt != nil, let done = reenriched[threat.id] { return done.events }
        return await base.fetchEvents(of: threat)
    }
}

/// The poll's encoder, noting which records go out with a part that failed transiently (to enrich them again once
/// they are delivered).
struct IncompleteNotingEncoder: RecordEncoder {
    let base: any RecordEncoder
    let note: @Sendable (UInt64) -> Void

    func encode(_ threat: EnrichedThreat) -> EncodedRecord {
        if threat.analysis.failedFailure != nil || threat.events.failedFailure != nil, threat.threat.reenrichmentAttempt == nil {
            note(threat.threat.sequence)
        }
        return base.encode(threat)
    }
}
