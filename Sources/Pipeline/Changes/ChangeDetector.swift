import RawJSON

/// Says what changed in a threat version against the entry of the version delivered before it. Pure: the
/// ``ChangeLedger`` finds the entry and keeps the result.
public struct ChangeDetector: Sendable {
    public let tracked: TrackedFields

    public init(tracked: TrackedFields) {
        self.tracked = tracked
    }

    /// The change of `threat` against `previous` (nil: none known) and the entry to keep once it is acknowledged.
    /// `horizon` is when the state began: a threat created since, with no entry, is new; one created before (or a
    /// state without a horizon) is unknown. The same version delivered again says the change it said.
    public func detect(_ threat: ListedThreat, previous: ThreatStateEntry?, horizon: RFC3339Timestamp?, now: Int64) -> (change: ThreatChange, entry: ThreatStateEntry) {
        if var previous, previous.updatedAt != nil, RFC3339Timestamp.sameInstant(previous.updatedAt, threat.updatedAt) {
            previous.lastSeen = now
            return (previous.change, previous)
        }
        let current = tracked.values(in: threat.json)
        let change: ThreatChange
        if let previous {
            var fields: [ThreatChange.Field] = []
            for (index, path) in tracked.paths.enumerated() where previous.paths.contains(path) {
                // An entry stored before values were bounded may hold a large value whole: compared as its digest.
                let before = TrackedValueDigest.bounded(previous.value(of: path))
                let after = current.slots[index]
                guard before != after else { continue }
                var field = ThreatChange.Field(path: path, from: before, to: after)
                // A side over the cap: both sides said by size and digest (what the change writes and reads back).
                if field.isTruncated { field = .init(path: path, from: before.map(TrackedValueDigest.asDigest), to: after.map(TrackedValueDigest.asDigest)) }
                fields.append(field)
            }
            change = ThreatChange(
                kind: fields.isEmpty ? .unchanged : .changed, previousUpdatedAt: previous.updatedAt, fields: fields,
                closes: current.resolved && !previous.resolved
            )
        } else {
            let created = current.createdAt.flatMap(RFC3339Timestamp.init)
            let isNew = horizon.map { horizon in created.map { $0.microseconds >= horizon.microseconds } ?? false } ?? false
            change = ThreatChange(kind: isNew ? .new : .unknown)
        }
        let entry = ThreatStateEntry(
            id: threat.id, updatedAt: threat.updatedAt, paths: tracked.paths, slots: current.slots,
            resolved: current.resolved, change: change, lastSeen: now
        )
        return (change, entry)
    }
}
