/// Where threats and their enrichment come from (the SentinelOne API, in production).
///
/// Listing may throw: a page that cannot be fetched ends the export. Enrichment never throws: a part that
/// cannot be fetched comes back as an ``EnrichmentOutcome`` failure and the record is emitted without it.
public protocol ThreatSource: Sendable {
    /// Fetches the page at `cursor` (nil: the first page).
    func fetchPage(cursor: String?) async throws -> ThreatPage
    /// Fetches the analysis `data` object of a listed threat.
    func fetchAnalysis(of threat: ListedThreat) async -> EnrichmentOutcome<[UInt8]>
    /// Fetches every page of a listed threat's explore events (up to the configured cap).
    func fetchEvents(of threat: ListedThreat) async -> EnrichmentOutcome<ThreatEvents>
}
