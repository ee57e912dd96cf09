import RawJSON

/// Turns the acknowledgement watermark into a checkpoint: remembers each in-flight record's version in fetch order,
/// and when the low watermark passes records, folds their versions into the checkpoint — so the checkpoint only
/// ever covers versions that every sink acknowledged, even though enrichment finishes out of order.
public struct CheckpointState: Sendable {
    /// The last checkpoint reached (nil before anything was delivered in this run and none was loaded).
    public private(set) var checkpoint: Checkpoint?
    private var boundary: (time: RFC3339Timestamp, ids: Set<String>)?
    /// Versions of registered records not yet below the watermark, by sequence number.
    private var pending: [UInt64: (id: String, updatedAt: String?)] = [:]
    /// Records below this sequence number are folded in.
    private var foldedUpTo: UInt64 = 0

    public init(resumingFrom checkpoint: Checkpoint?) {
        self.checkpoint = checkpoint
        if let checkpoint, let time = RFC3339Timestamp(checkpoint.updatedAt) {
            boundary = (time, Set(checkpoint.idsAtUpdatedAt))
        }
    }

    /// Notes the version of the record with `sequence` (sequences come in fetch order, from 0).
    public mutating func recordFetched(sequence: UInt64, id: String, updatedAt: String?) {
        pending[sequence] = (id, updatedAt)
    }

    /// Folds every record below `watermark` into the checkpoint; returns the new checkpoint when it changed.
    public mutating func advance(toWatermark watermark: UInt64) -> Checkpoint? {
        var changed = false
        while foldedUpTo < watermark {
            defer { foldedUpTo += 1 }
            guard let version = pending.removeValue(forKey: foldedUpTo), let text = version.updatedAt,
                let time = RFC3339Timestamp(text)
            else { continue }
            if let current = boundary, time < current.time { continue }
            if let current = boundary, time == current.time {
                if boundary!.ids.insert(version.id).inserted { changed = true }
            } else {
                boundary = (time, [version.id])
                checkpoint = Checkpoint(updatedAt: text, idsAtUpdatedAt: [])
                changed = true
            }
        }
        guard changed, let boundary else { return nil }
        checkpoint?.idsAtUpdatedAt = boundary.ids.sorted()
        return checkpoint
    }

    /// Versions already covered, which a poll at `updatedAt__gte` returns again and must not re-emit.
    public func covers(id: String, updatedAt: String?) -> Bool {
        guard let boundary, let text = updatedAt, let time = RFC3339Timestamp(text) else { return false }
        return time < boundary.time || (time == boundary.time && boundary.ids.contains(id))
    }
}
