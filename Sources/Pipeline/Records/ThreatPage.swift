/// One page of the threat list.
public struct ThreatPage: Sendable {
    public var threats: [ListedThreat]
    /// The cursor of the next page; nil on the last page.
    public var nextCursor: String?
    /// `pagination.totalItems`, when the API computed it.
    public var totalItems: Int?

    public init(threats: [ListedThreat], nextCursor: String?, totalItems: Int? = nil) {
        self.threats = threats
        self.nextCursor = nextCursor
        self.totalItems = totalItems
    }
}
