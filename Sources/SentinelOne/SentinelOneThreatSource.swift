import Logging
import Pipeline
import RawJSON

/// The SentinelOne console as the pipeline's ``ThreatSource``: the threat list with fixed filters, each threat's
/// analysis, and every page of its explore events.
public struct SentinelOneThreatSource: ThreatSource {
    public static let threatsPath = "/web/api/v2.1/threats"

    let client: SentinelOneClient
    let threatQuery: ThreatListQuery
    let eventsQuery: ExploreEventsQuery

    public init(client: SentinelOneClient, threatQuery: ThreatListQuery, eventsQuery: ExploreEventsQuery) {
        self.client = client
        self.threatQuery = threatQuery
        self.eventsQuery = eventsQuery
    }

    public func fetchPage(cursor: String?) async throws -> ThreatPage {
        try await client.get(Self.threatsPath, query: threatQuery.queryString(cursor: cursor)) { response throws(SentinelOneError) in
            try ThreatListResponse.parse(response, path: Self.threatsPath)
        }
    }

    public func fetchAnalysis(of threat: ListedThreat) async -> EnrichmentOutcome<[UInt8]> {
        let path = "/web/api/v2.1/private/threats/\(QueryString.percentEncode(threat.id))/analysis"
        do {
            return .fetched(try await client.get(path) { response throws(SentinelOneError) in
                try AnalysisResponse.parse(response, path: path)
            })
        } catch {
            return Self.outcome(of: error)
        }
    }

    public func fetchEvents(of threat: ListedThreat) async -> EnrichmentOutcome<ThreatEvents> {
        let path = "/web/api/v2.1/threats/\(QueryString.percentEncode(threat.id))/explore/events"
        var events = ThreatEvents()
        var cursor: String? = nil
        var seenCursors: Set<String> = []
        var emptyPagesInARow = 0
        let cap = eventsQuery.maximumEvents
        do throws(SentinelOneError) {
            repeat {
                let remaining = cap.map { $0 - events.count }
                if let remaining, remaining <= 0 {
                    events.truncated = true
                    break
                }
                let query = eventsQuery.queryString(cursor: cursor, remaining: remaining)
                let gathered = events
                let (page, pageEvents) = try await client.get(path, query: query) { response throws(SentinelOneError) in
                    var pageEvents = gathered
                    let page = try EventsPageResponse.append(response, path: path, to: &pageEvents, limit: cap)
                    return (page, pageEvents)
                }
                emptyPagesInARow = pageEvents.count == events.count && !page.droppedAny ? emptyPagesInARow + 1 : 0
                events = pageEvents
                if cursor == nil { events.totalItems = page.totalItems }
                if page.nextCursor != nil, emptyPagesInARow > eventsQuery.maximumEmptyPagesInARow {
                    throw SentinelOneError(
                        code: .malformedResponse,
                        message: "GET \(path): \(emptyPagesInARow) pages in a row without events, each with a next cursor"
                    )
                }
                if page.droppedAny { events.truncated = true }
                if let next = page.nextCursor, !seenCursors.insert(next).inserted {
                    throw SentinelOneError(
                        code: .malformedResponse,
                        message: "GET \(path): the cursors go round in a cycle (cursor \(next) came back)"
                    )
                }
                if page.nextCursor != nil, events.byteCount >= eventsQuery.maximumBytes {
                    // Whatever the console sends, one threat's events never hold more than this in memory.
                    events.truncated = true
                    break
                }
                cursor = page.nextCursor
            } while cursor != nil
            if let total = events.totalItems, total > events.count, cap != nil { events.truncated = true }
            return .fetched(events)
        } catch {
            return Self.outcome(of: error)
        }
    }

    static func outcome<Value>(of error: SentinelOneError) -> EnrichmentOutcome<Value> {
        let failure = EnrichmentFailure(httpStatus: error.httpStatus, message: error.message, requestID: error.requestID)
        switch error.code {
        case .notFound: return .notFound(failure)
        case .stopped: return .stopped
        default: return .failed(failure)
        }
    }
}
