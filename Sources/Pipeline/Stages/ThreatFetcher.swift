import CoreMetrics
/// The first stage: pages through the threat list and sends each threat on, in API order, numbered in fetch order.
public struct ThreatFetcher<Source: ThreatSource>: Sendable {
    let source: Source
    let tracker: AcknowledgementTracker
    let stop: StopSignal?
    let onFetched: (@Sendable (ListedThreat) -> Void)?

    /// - Parameters:
    ///   - stop: when raised, no further page is requested and no further threat sent.
    ///   - onFetched: sees each threat once numbered, before it is sent on (the checkpoint notes its version).
    public init(
        source: Source,
        tracker: AcknowledgementTracker,
        stop: StopSignal? = nil,
        onFetched: (@Sendable (ListedThreat) -> Void)? = nil
    ) {
        self.source = source
        self.tracker = tracker
        self.stop = stop
        self.onFetched = onFetched
    }

    /// Fetches every page and sends its threats to `output`; finishes `output` when the list ends.
    ///
    /// The next page is requested as soon as the current one is read (its cursor is known then), while the
    /// current page's threats are still being sent: the enrichers do not wait a page's round trip and parse at each
    /// page boundary. At most one page is read ahead.
    /// - Returns: what was fetched.
    public func run(into output: BoundedChannel<ListedThreat>) async throws -> FetchSummary {
        defer { output.finish() }
        var summary = FetchSummary()
        do {
            return try await fetchPages(into: output, summary: &summary)
        } catch where stop?.isStopRequested == true && FailureKind.of(error) == .interrupted {
            // The next page's request waited for a rate-limit token or a retry when the stop came: it was not sent.
            summary.stoppedEarly = true
            return summary
        }
    }

    private func fetchPages(into output: BoundedChannel<ListedThreat>, summary: inout FetchSummary) async throws -> FetchSummary {
        let source = self.source
        return try await withThrowingTaskGroup(of: ThreatPage.self) { pages in
            var cursor: String? = nil
            // Every cursor of this pass: one seen again is a cycle (A→B→A), which would repeat pages for ever.
            var seenCursors: Set<String> = []
            try Task.checkCancellation()
            if stop?.isStopRequested == true {
                summary.stoppedEarly = true
                return summary
            }
            pages.addTask { try await source.fetchPage(cursor: nil) }
            while let page = try await pages.next() {
                summary.pages += 1
                if summary.totalItems == nil { summary.totalItems = page.totalItems }
                let loops = page.nextCursor.map { !seenCursors.insert($0).inserted } ?? false
                if let next = page.nextCursor, !loops, stop?.isStopRequested != true {
                    pages.addTask { try await source.fetchPage(cursor: next) }
                }
                for var threat in page.threats {
                    if stop?.isStopRequested == true {
                        summary.stoppedEarly = true
                        pages.cancelAll()
                        return summary
                    }
                    threat.sequence = tracker.register()
                    onFetched?(threat)
                    summary.threats += 1
                    PipelineMetrics.threatsFetched.increment()
                    await output.send(threat)
                }
                if loops {
                    throw PipelineError(
                        code: .sourceLoop,
                        message: "the threat list's cursors go round in a cycle: page \(summary.pages) points back to "
                            + "a page of this pass (cursor \(page.nextCursor ?? ""))"
                    )
                }
                cursor = page.nextCursor
                try Task.checkCancellation()
                if cursor != nil, stop?.isStopRequested == true {
                    summary.stoppedEarly = true
                    pages.cancelAll()
                    return summary
                }
            }
            return summary
        }
    }
}

/// What the fetcher saw.
public struct FetchSummary: Sendable, Equatable {
    public var pages = 0
    public var threats = 0
    /// True when a stop request ended the paging before the last page.
    public var stoppedEarly = false
    /// `pagination.totalItems` of the first page, when the API computed it.
    public var totalItems: Int?

    public init() {}
}
