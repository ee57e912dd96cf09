extension ThreatSource {
    /// Follows the list's cursors from the first page, calling `body` with each page and whether it is the first —
    /// for a list read whole outside the pipeline (an audit, a look-up by ids). A hostile console cannot keep it
    /// going: a cursor seen again, or ten empty pages in a row, ends it with a ``PipelineError/Code/sourceLoop``;
    /// `maximumPages` ends it quietly (a look-up whose answer fits on one page needs no more).
    public func forEachPage(maximumPages: Int = .max, _ body: (ThreatPage, Bool) throws -> Void) async throws {
        var cursor: String?
        var seen = Set<String>()
        var emptyInARow = 0
        for _ in 0..<maximumPages {
            let page = try await fetchPage(cursor: cursor)
            try body(page, cursor == nil)
            emptyInARow = page.threats.isEmpty ? emptyInARow + 1 : 0
            guard let next = page.nextCursor else { return }
            guard seen.insert(next).inserted, emptyInARow < 10 else {
                throw PipelineError(code: .sourceLoop, message: "the threat list's cursors go round in a cycle or give empty pages without end")
            }
            cursor = next
        }
    }
}
