/// All explore events fetched for a threat, from every page in order.
public struct ThreatEvents: Sendable, Equatable {
    /// One entry per page that had events: that page's events as compact JSON separated by commas. Kept per page,
    /// not appended into one buffer, so that a threat with thousands of events never holds a doubled copy.
    public var pages: [[UInt8]]
    /// How many events the pages hold.
    public var count: Int
    /// `pagination.totalItems` of the first page, when the API computed it.
    public var totalItems: Int?
    /// True when `--max-events` stopped the paging before the last event.
    public var truncated: Bool

    public init(pages: [[UInt8]] = [], count: Int = 0, totalItems: Int? = nil, truncated: Bool = false) {
        self.pages = pages.filter { !$0.isEmpty }
        self.count = count
        self.totalItems = totalItems
        self.truncated = truncated
    }

    /// Events already joined by commas (the inside of a JSON array).
    public init(joinedJSON: [UInt8], count: Int, totalItems: Int? = nil, truncated: Bool = false) {
        self.init(pages: [joinedJSON], count: count, totalItems: totalItems, truncated: truncated)
    }

    /// Bytes of all events with the commas between them.
    public var byteCount: Int {
        pages.reduce(0) { $0 + $1.count } + max(0, pages.count - 1)
    }

    /// Appends the events, comma-separated, to `output` (the inside of a JSON array).
    public func appendJoined(to output: inout [UInt8]) {
        for (index, page) in pages.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            output.append(contentsOf: page)
        }
    }

    /// All events joined by commas, in one buffer.
    public var joinedJSON: [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(byteCount)
        appendJoined(to: &output)
        return output
    }
}
