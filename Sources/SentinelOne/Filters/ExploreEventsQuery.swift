/// The query of `GET /web/api/v2.1/threats/{id}/explore/events`: the user's event filters, paging, and an optional
/// cap on the number of events per threat.
public struct ExploreEventsQuery: Sendable, Equatable {
    public static let maximumPageSize = 1000

    public var filters: [QueryFilter]
    /// Events per page (`limit`), 1…1000.
    public var pageSize: Int
    /// At most this many events per threat; nil: all of them.
    public var maximumEvents: Int?
    /// At most this many bytes of events per threat, whatever the console sends: paging stops (the record says it
    /// was truncated) once the events gathered reach it, so one threat's events never fill the memory.
    public var maximumBytes = 32 * 1024 * 1024
    /// Pages in a row that bring no event yet point to a next page: beyond this, the console is going nowhere.
    public var maximumEmptyPagesInARow = 100

    public init(filters: [QueryFilter] = [], pageSize: Int = maximumPageSize, maximumEvents: Int? = nil)
        throws(FilterError)
    {
        guard (1...Self.maximumPageSize).contains(pageSize) else {
            throw FilterError(
                option: "--events-page-size \(pageSize)",
                reason: "the page size is 1…\(Self.maximumPageSize)"
            )
        }
        if let maximumEvents, maximumEvents < 0 {
            throw FilterError(option: "--max-events \(maximumEvents)", reason: "the cap is 0 or more")
        }
        self.filters = filters
        self.pageSize = pageSize
        self.maximumEvents = maximumEvents
    }

    /// The query string of a page. The first page of a capped query asks for the total so that a truncated record
    /// can say how many events exist; otherwise `skipCount=true`.
    func queryString(cursor: String?, remaining: Int?) -> String {
        var items = QueryFilter.queryItems(filters, catalog: .exploreEvents)
        let limit = remaining.map { min(max($0, 1), pageSize) } ?? pageSize
        items.append((name: "limit", value: String(limit), isList: false))
        let wantsTotal = maximumEvents != nil && cursor == nil
        if !wantsTotal { items.append((name: "skipCount", value: "true", isList: false)) }
        if let cursor { items.append((name: "cursor", value: cursor, isList: false)) }
        return QueryString.encode(items)
    }
}
