/// One threat as the list endpoint returned it: its identity and its exact JSON.
public struct ListedThreat: Sendable, Equatable {
    /// Position in fetch order, assigned by the fetcher (0, 1, 2, …); acknowledgements are tracked by it.
    public var sequence: UInt64
    /// The list item's `id`: what the analysis and events endpoints take.
    public var id: String
    /// `threatInfo.updatedAt` as the API wrote it, when present.
    public var updatedAt: String?
    /// The list item's JSON, compact (see `JSONSplicer`), values exactly as served.
    public var json: [UInt8]
    /// `run`: this version was delivered before with a part that failed, and is enriched again — the attempt's
    /// number (from 1), said in the record's `meta.reenriched`.
    public var reenrichmentAttempt: Int?
    /// `run` with state: the change decided when the threat was listed (in fetch order) and the entry to store once
    /// it is acknowledged; nil without state.
    public var decided: DecidedChange?

    public init(sequence: UInt64 = 0, id: String, updatedAt: String?, json: [UInt8], reenrichmentAttempt: Int? = nil) {
        self.reenrichmentAttempt = reenrichmentAttempt
        self.sequence = sequence
        self.id = id
        self.updatedAt = updatedAt
        self.json = json
    }
}

/// A version's change and its state entry, decided before the version is enriched (see ``ChangeLedger``).
public struct DecidedChange: Sendable, Equatable {
    public var change: ThreatChange
    public var entry: ThreatStateEntry

    public init(change: ThreatChange, entry: ThreatStateEntry) {
        self.change = change
        self.entry = entry
    }
}
