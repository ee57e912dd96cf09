import Pipeline
import RawJSON

/// Reads one page of `GET /web/api/v2.1/threats/{id}/explore/events`, adding its events (compact) to the events
/// gathered so far as one more page, up to a cap.
enum EventsPageResponse {
    /// - Returns: the page's pagination; events beyond `limit` (when given) are validated but not kept.
    static func append(
        _ response: APIResponse,
        path: String,
        to events: inout ThreatEvents,
        limit: Int?
    ) throws(SentinelOneError) -> (nextCursor: String?, totalItems: Int?, droppedAny: Bool) {
        var dropped = false
        var page: [UInt8] = []
        let envelope = try ResponseEnvelope.scan(response, path: path) { scanner in
            guard try scanner.peekKind() == .array else { throw ShapeError(description: "data is not an array") }
            try scanner.forEachElement { scanner in
                let (span, isCompact) = try scanner.skipCompactValue()
                if let limit, events.count >= limit {
                    dropped = true
                    return
                }
                if !page.isEmpty { page.append(UInt8(ascii: ",")) }
                JSONSplicer.appendCompact(scanner.bytes, span: span, isCompact: isCompact, to: &page)
                events.count += 1
            }
        }
        if !page.isEmpty { events.pages.append(page) }
        return (envelope.nextCursor, envelope.totalItems, dropped)
    }
}
