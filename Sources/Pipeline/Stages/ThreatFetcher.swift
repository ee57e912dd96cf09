/// The first stage: pages through the threat list and sends each threat on, in API order, numbered in fetch order.
public struct ThreatFetcher<Source: ThreatSource>: Sendable {
    let source: Source
    let tracker: AcknowledgementTracker

    public init(source: Source, tracker: AcknowledgementTracker) {
        self.source = source
        self.tracker = tracker
    }

    /// Fetches every page and sends its threats to `output`; finishes `output` when the list ends.
    /// - Returns: what was fetched.
    public func run(into output: BoundedChannel<ListedThreat>) async throws -> FetchSummary {
        var summary = FetchSummary()
        var cursor: String? = nil
        defer { output.finish() }
        repeat {
            try Task.checkCancellation()
            let page = try await source.fetchPage(cursor: cursor)
            summary.pages += 1
            if summary.totalItems == nil { summary.totalItems = page.totalItems }
            for var threat in page.threats {
                threat.sequence = tracker.register()
                summary.threats += 1
                await output.send(threat)
            }
            if let next = page.nextCursor, next == cursor {
                throw PipelineError(code: .sourceLoop, message: "the API returned the same cursor twice: \(next)")
            }
            cursor = page.nextCursor
        } while cursor != nil
        return summary
    }
}

/// What the fetcher saw.
public struct FetchSummary: Sendable, Equatable {
    public var pages = 0
    public var threats = 0
    /// `pagination.totalItems` of the first page, when the API computed it.
    public var totalItems: Int?

    public init() {}
}
