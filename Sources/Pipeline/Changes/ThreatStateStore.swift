/// Where the state of the threats lives — beside the checkpoint: an SQLite database beside the state file, or a
/// compacted Kafka topic restored into a local database. It holds one ``ThreatStateEntry`` per threat, written only
/// once the version it describes is acknowledged.
public protocol ThreatStateStore: Sendable {
    /// Where it is, for people.
    var location: String { get }
    /// Opens (or restores) the store; returns the horizon: since when the store has seen every threat created.
    func open() async throws -> RFC3339TimestampText
    /// The entry of threat `id`, nil when none.
    func entry(for id: String) async throws -> ThreatStateEntry?
    /// Stores acknowledged entries; an entry never replaces one of a newer version of the same threat.
    func save(_ entries: [ThreatStateEntry]) async throws
    /// Forgets threats not listed since `lastSeen` (seconds since 1970); returns how many.
    func forget(notSeenSince lastSeen: Int64) async throws -> Int
    /// Entries held.
    func count() async throws -> Int
    /// Releases the store.
    func close() async
}

/// A timestamp in RFC 3339 text, as stored.
public typealias RFC3339TimestampText = String
