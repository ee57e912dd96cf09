/// All explore events fetched for a threat, joined from every page in order.
public struct ThreatEvents: Sendable, Equatable {
    /// The events' JSON values, compact, separated by commas (the inside of a JSON array).
    public var joinedJSON: [UInt8]
    /// How many events `joinedJSON` holds.
    public var count: Int
    /// `pagination.totalItems` of the first page, when the API computed it.
    public var totalItems: Int?
    /// True when `--max-events` stopped the paging before the last page.
    public var truncated: Bool

    public init(joinedJSON: [UInt8] = [], count: Int = 0, totalItems: Int? = nil, truncated: Bool = false) {
        self.joinedJSON = joinedJSON
        self.count = count
        self.totalItems = totalItems
        self.truncated = truncated
    }
}
