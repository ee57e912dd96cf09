import Durations
import RawJSON
import SentinelOne

/// Which threats an audit covers: those whose `updatedAt` (or `createdAt`) lies in `[since, until]`, leaving out
/// those updated in the last `settle` (a running `run` may not have reached them yet).
public struct AuditWindow: Sendable {
    public enum Field: String, Sendable {
        case updatedAt, createdAt
    }

    public var field: Field = .updatedAt
    public var since: RFC3339Timestamp?
    public var until: RFC3339Timestamp?
    public var settle: Duration = .seconds(300)

    public init() {}

    /// The list filters that select the window (the settle cut is applied to each listed threat).
    public var filters: [QueryFilter] {
        var filters: [QueryFilter] = []
        if let since { filters.append(QueryFilter(name: "\(field.rawValue)__gte", value: since.description)) }
        if let until { filters.append(QueryFilter(name: "\(field.rawValue)__lte", value: until.description)) }
        return filters
    }

    /// Threats updated after this instant are left out.
    public func settleCutoff(now: RFC3339Timestamp) -> RFC3339Timestamp {
        RFC3339Timestamp(microseconds: now.microseconds - settle.saturatingMicroseconds)
    }

    /// Whether a delivered version falls in the window (the threats the console should still list).
    func contains(_ version: DeliveredVersion, cutoff: RFC3339Timestamp) -> Bool {
        guard version.updatedAt <= cutoff else { return false }
        let instant = field == .updatedAt ? version.updatedAt : version.createdAt
        guard let instant else { return false }
        return (since.map { instant >= $0 } ?? true) && (until.map { instant <= $0 } ?? true)
    }

    /// For people: `updatedAt 2026-01-01T00:00:00Z … 2026-02-01T00:00:00Z, settle 300s`.
    public var description: String {
        "\(field.rawValue) \(since?.description ?? "the beginning") … \(until?.description ?? "now"), settle \(settle.components.seconds)s"
    }
}
