import Logging
import RawJSON
import Durations

extension ContinuousExport {
    /// The most re-enrichments tried in one poll.
    static var reenrichmentsPerPoll: Int { 100 }

    /// Before a poll: the pending re-enrichments that are due are looked up by id (one list request per 100) and
    /// enriched again; the complete ones are returned to go out first in this poll. The others are tried again
    /// later with backoff, given up after `reenrichmentAttempts`, or dropped when the threat is gone or has a newer
    /// version (which this or a later poll delivers). A console that cannot be asked now leaves them all for later.
    func reenrich(_ state: inout CheckpointProgress) async -> [ReenrichingSource<VersionFilteringSource<Source>>.Reenriched] {
        guard reenrichmentAttempts > 0, let lookup = parts.makeLookupSource else { return [] }
        let now = RFC3339Timestamp.now
        let due = state.dueEnrichments(now: now, limit: Self.reenrichmentsPerPoll)
        guard !due.isEmpty else { return [] }
        let source: Source
        var listed: [String: ListedThreat] = [:]
        do {
            source = try lookup(due.map(\.id))
            try await source.forEachPage(maximumPages: 10) { page, _ in
                for threat in page.threats { listed[threat.id] = threat }
            }
        } catch {
            logger.warning("re-enrichment: the threats could not be looked up; tried again at the next poll", metadata: ["error": "\(error)"])
            return []
        }
        var candidates: [(Checkpoint.PendingEnrichment, ListedThreat)] = []
        for entry in due {
            guard let threat = listed[entry.id], RFC3339Timestamp.sameInstant(threat.updatedAt, entry.updatedAt) else {
                // Deleted, or a newer version exists: that version is delivered on its own.
                PipelineMetrics.reenrichment(listed[entry.id] == nil ? "deleted" : "superseded")
                state.dropEnrichment(id: entry.id)
                continue
            }
            var again = threat
            again.reenrichmentAttempt = entry.attempts + 1
            candidates.append((entry, again))
        }
        let fetched = await withTaskGroup(of: (Checkpoint.PendingEnrichment, ReenrichingSource<VersionFilteringSource<Source>>.Reenriched).self) { group in
            var results: [(Checkpoint.PendingEnrichment, ReenrichingSource<VersionFilteringSource<Source>>.Reenriched)] = []
            var next = candidates.makeIterator()
            func add(_ candidate: (Checkpoint.PendingEnrichment, ListedThreat)) {
                group.addTask {
                    async let analysis = source.fetchAnalysis(of: candidate.1)
                    async let events = source.fetchEvents(of: candidate.1)
                    return (candidate.0, .init(threat: candidate.1, analysis: await analysis, events: await events))
                }
            }
            for _ in 0..<max(1, pipelineConfiguration.concurrency) { if let candidate = next.next() { add(candidate) } }
            while let result = await group.next() {
                results.append(result)
                if let candidate = next.next() { add(candidate) }
            }
            return results
        }
        var complete: [ReenrichingSource<VersionFilteringSource<Source>>.Reenriched] = []
        for (entry, result) in fetched {
            if result.analysis.failedFailure == nil, result.events.failedFailure == nil {
                complete.append(result)
            } else if entry.attempts + 1 >= reenrichmentAttempts {
                PipelineMetrics.reenrichment("gave_up")
                logger.warning("re-enrichment given up: the record stays incomplete", metadata: [
                    "threat_id": "\(entry.id)", "updated_at": "\(entry.updatedAt)", "attempts": "\(entry.attempts + 1)",
                ])
                state.dropEnrichment(id: entry.id)
            } else {
                PipelineMetrics.reenrichment("failed")
                let delay = min(interval * (1 << min(entry.attempts + 1, 16)), maximumBackoff)
                state.enrichmentFailedAgain(id: entry.id, notBefore: RFC3339Timestamp(microseconds: now.microseconds + delay.saturatingMicroseconds))
            }
        }
        if !complete.isEmpty { logger.info("re-enriched versions go out again, complete", metadata: ["count": "\(complete.count)"]) }
        return complete
    }
}
