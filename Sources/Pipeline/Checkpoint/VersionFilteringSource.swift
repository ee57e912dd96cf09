/// A source that leaves out the threat versions a checkpoint already covers: a poll at `updatedAt__gte=<checkpoint>`
/// returns the boundary's versions again, and they must not be delivered twice.
public struct VersionFilteringSource<Base: ThreatSource>: ThreatSource {
    let base: Base
    let covered: CheckpointProgress

    public init(base: Base, covered: CheckpointProgress) {
        self.base = base
        self.covered = covered
    }

    public func fetchPage(cursor: String?) async throws -> ThreatPage {
        var page = try await base.fetchPage(cursor: cursor)
        page.threats.removeAll { covered.covers(id: $0.id, updatedAt: $0.updatedAt) }
        return page
    }

    public func fetchAnalysis(of threat: ListedThreat) async -> EnrichmentOutcome<[UInt8]> {
        await base.fetchAnalysis(of: threat)
    }

    public func fetchEvents(of threat: ListedThreat) async -> EnrichmentOutcome<ThreatEvents> {
        await base.fetchEvents(of: threat)
    }
}
