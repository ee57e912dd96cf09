/// The query of `GET /web/api/v2.1/threats`: the user's filters, held fixed on every page, plus paging.
public struct ThreatListQuery: Sendable, Equatable {
    /// The largest page the API serves.
    public static let maximumPageSize = 1000

    public var filters: [QueryFilter]
    /// Threats per page (`limit`), 1…1000.
    public var pageSize: Int

    public init(filters: [QueryFilter] = [], pageSize: Int = maximumPageSize) throws(FilterError) {
        guard (1...Self.maximumPageSize).contains(pageSize) else {
            throw FilterError(option: "--page-size \(pageSize)", reason: "the page size is 1…\(Self.maximumPageSize)")
        }
        self.filters = filters
        self.pageSize = pageSize
    }

    /// The query string of the page at `cursor` (nil: the first page). `skipCount=true` spares the console the
    /// total on every page after the first.
    public func queryString(cursor: String?) -> String {
        var items = QueryFilter.queryItems(filters, catalog: .threats)
        items.append((name: "limit", value: String(pageSize), isList: false))
        if let cursor {
            items.append((name: "skipCount", value: "true", isList: false))
            items.append((name: "cursor", value: cursor, isList: false))
        }
        return QueryString.encode(items)
    }

    /// The query asking only how many threats the filters match (`countOnly=true`; the answer's
    /// `pagination.totalItems`).
    public var countQueryString: String {
        var items = QueryFilter.queryItems(filters, catalog: .threats)
        items.append((name: "limit", value: "1", isList: false))
        items.append((name: "countOnly", value: "true", isList: false))
        return QueryString.encode(items)
    }
}
