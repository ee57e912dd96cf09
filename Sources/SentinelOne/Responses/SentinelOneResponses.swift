import Pipeline

/// The readers of the three answers, as ``SentinelOneThreatSource`` uses them: public so that benchmarks and tools
/// can measure and reuse exactly the code the export runs.
public enum SentinelOneResponses {
    /// A `GET /threats` page: each item located, its `id` and `updatedAt` read, its bytes copied compact.
    public static func threatPage(_ response: APIResponse) throws(SentinelOneError) -> ThreatPage {
        try ThreatListResponse.parse(response, path: SentinelOneThreatSource.threatsPath)
    }

    /// The `data` object of a threat's analysis, compact.
    public static func analysis(_ response: APIResponse) throws(SentinelOneError) -> [UInt8] {
        try AnalysisResponse.parse(response, path: "analysis")
    }

    /// Adds an explore-events page's events to `events`; returns the next cursor.
    public static func appendEvents(_ response: APIResponse, to events: inout ThreatEvents) throws(SentinelOneError) -> String? {
        try EventsPageResponse.append(response, path: "explore/events", to: &events, limit: nil).nextCursor
    }
}
