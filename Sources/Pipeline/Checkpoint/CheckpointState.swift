import Durations
import RawJSON

/// Turns the acknowledgement watermark into a checkpoint: remembers each in-flight record's version in fetch order,
/// and when the low watermark passes records, folds their versions into the checkpoint — so the checkpoint only
/// ever covers versions that every sink acknowledged, even though enrichment finishes out of order.
///
/// With an `overlap`, the versions delivered within `overlap` below the checkpoint are kept too, so that a poll that
/// starts `overlap` early delivers only the versions that became visible late (replication lag, a console that
/// stamps `updatedAt` before it commits), never one delivered already.
public struct CheckpointState: Sendable {
    /// Versions kept for the overlap window at the most; beyond, the oldest are dropped (they may then be delivered
    /// again, never lost).
    public static let maximumOverlapVersions = 100_000

    /// The last checkpoint reached (nil before anything was delivered in this run and none was loaded), with the
    /// versions delivered in the overlap window.
    public var checkpoint: Checkpoint? {
        guard overlapMicroseconds > 0, var reached, let boundary else { return reached }
        let start = boundary.time.microseconds - overlapMicroseconds
        reached.deliveredInOverlap = recent.filter { $0.value.microseconds >= start }.keys.sorted()
        return reached
    }
    /// The checkpoint without the overlap's versions.
    private var reached: Checkpoint?
    /// The size of `recent` after its last pruning: it is pruned again when it has doubled (amortised).
    private var prunedCount = 0
    private var boundary: (time: RFC3339Timestamp, ids: Set<String>)?
    /// Versions of registered records not yet below the watermark, by sequence number.
    private var pending: [UInt64: (id: String, updatedAt: String?)] = [:]
    /// Records below this sequence number are folded in.
    private var foldedUpTo: UInt64 = 0
    /// The overlap window, in microseconds.
    private let overlapMicroseconds: Int64
    /// Delivered versions with an `updatedAt` in the overlap window below the boundary (and at it).
    private var recent: [Checkpoint.Version: RFC3339Timestamp] = [:]

    public init(resumingFrom checkpoint: Checkpoint?, overlap: Duration = .zero) {
        self.reached = checkpoint
        self.reached?.deliveredInOverlap = nil
        self.overlapMicroseconds = overlap.saturatingMicroseconds
        if let checkpoint, let time = RFC3339Timestamp(checkpoint.updatedAt) {
            boundary = (time, Set(checkpoint.idsAtUpdatedAt))
            if overlapMicroseconds > 0 {
                for version in checkpoint.deliveredInOverlap ?? [] {
                    if let time = RFC3339Timestamp(version.updatedAt) { recent[version] = time }
                }
            }
        }
    }

    /// Where a poll starts: `overlap` before the checkpoint (nil without a checkpoint).
    public var pollStart: String? {
        guard let reached else { return nil }
        guard overlapMicroseconds > 0, let boundary else { return reached.updatedAt }
        return RFC3339Timestamp(microseconds: boundary.time.microseconds - overlapMicroseconds).description
    }

    /// Notes the version of the record with `sequence` (sequences come in fetch order, from 0).
    public mutating func recordFetched(sequence: UInt64, id: String, updatedAt: String?) {
        pending[sequence] = (id, updatedAt)
    }

    /// Folds every record below `watermark` into the checkpoint; returns the new checkpoint when it changed.
    public mutating func advance(toWatermark watermark: UInt64) -> Checkpoint? {
        fold(toWatermark: watermark) ? checkpoint : nil
    }

    /// Folds every record below `watermark` into the checkpoint; returns whether it changed. Cheap enough to call on
    /// every move of the watermark.
    @discardableResult
    public mutating func fold(toWatermark watermark: UInt64) -> Bool {
        var changed = false
        while foldedUpTo < watermark {
            defer { foldedUpTo += 1 }
            guard let version = pending.removeValue(forKey: foldedUpTo), let text = version.updatedAt,
                let time = RFC3339Timestamp(text)
            else { continue }
            if overlapMicroseconds > 0 {
                if recent.updateValue(time, forKey: Checkpoint.Version(id: version.id, updatedAt: text)) == nil { changed = true }
            }
            if let current = boundary, time < current.time { continue }
            if let current = boundary, time == current.time {
                if boundary!.ids.insert(version.id).inserted { changed = true }
            } else {
                boundary = (time, [version.id])
                reached = Checkpoint(updatedAt: text, idsAtUpdatedAt: [])
                changed = true
            }
        }
        guard changed, let boundary else { return false }
        reached?.idsAtUpdatedAt = boundary.ids.sorted()
        if overlapMicroseconds > 0, recent.count > 2 * prunedCount + 1024 {
            pruneRecent(below: boundary.time.microseconds - overlapMicroseconds)
            prunedCount = recent.count
        }
        return true
    }

    /// Drops the versions that left the overlap window, and the oldest beyond ``maximumOverlapVersions``.
    private mutating func pruneRecent(below start: Int64) {
        recent = recent.filter { $0.value.microseconds >= start }
        if recent.count > Self.maximumOverlapVersions {
            let kept = recent.sorted { $0.value.microseconds > $1.value.microseconds }.prefix(Self.maximumOverlapVersions)
            recent = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
        }
    }

    /// Versions already covered, which a poll at `updatedAt__gte` returns again and must not re-emit.
    public func covers(id: String, updatedAt: String?) -> Bool {
        guard let boundary, let text = updatedAt, let time = RFC3339Timestamp(text) else { return false }
        if time == boundary.time, boundary.ids.contains(id) { return true }
        guard time < boundary.time else { return false }
        // Below the boundary: in the overlap window only what was delivered is covered; older versions all are.
        guard overlapMicroseconds > 0, time.microseconds >= boundary.time.microseconds - overlapMicroseconds else { return true }
        return recent[Checkpoint.Version(id: id, updatedAt: text)] != nil
    }
}
