import Durations
import RawJSON

/// Turns the acknowledgement watermark into a checkpoint: remembers each in-flight record's version in fetch order,
/// and when the low watermark passes records, folds their versions into the checkpoint — so the checkpoint only
/// ever covers versions that every sink acknowledged, even though enrichment finishes out of order.
///
/// With an `overlap`, the versions delivered within `overlap` below the checkpoint are kept too, so that a poll that
/// starts `overlap` early delivers only the versions that became visible late (replication lag, a console that
/// stamps `updatedAt` before it commits), never one delivered already.
public struct CheckpointProgress: Sendable {
    /// Versions kept for the overlap window at the most; beyond, the oldest are dropped (they may then be delivered
    /// again, never lost).
    public static let maximumOverlapVersions = 100_000

    /// The last checkpoint reached (nil before anything was delivered in this run and none was loaded), with the
    /// versions delivered in the overlap window.
    public var checkpoint: Checkpoint? {
        guard var reached else { return nil }
        if !reenrichment.isEmpty {
            reached.pendingEnrichment = reenrichment.values.sorted(by: Checkpoint.PendingEnrichment.oldestFirst)
        }
        guard overlapMicroseconds > 0, let boundary else { return reached }
        let start = boundary.time.microseconds - overlapMicroseconds
        reached.deliveredInOverlap = recent.filter { $0.value.microseconds >= start }.keys.sorted()
        return reached
    }
    /// The checkpoint without the overlap's versions.
    private var reached: Checkpoint?
    /// The size of `recent` after its last pruning: it is pruned again when it has doubled (amortised).
    private var prunedCount = 0
    private var boundary: (time: RFC3339Timestamp, ids: Set<String>)?
    /// A registered record not yet below the watermark.
    private struct Fetched: Sendable {
        var id: String
        var updatedAt: String?
        /// A version enriched again (delivered before with a failed part).
        var reenrichment: Bool
        /// Its analysis or events failed for a transient reason: to be enriched again once delivered.
        var incomplete = false
    }

    /// Versions of registered records not yet below the watermark, by sequence number.
    private var pending: [UInt64: Fetched] = [:]
    /// Delivered versions to enrich again, by threat id (see ``Checkpoint/PendingEnrichment``).
    private var reenrichment: [String: Checkpoint.PendingEnrichment] = [:]
    /// How long after its delivery an incomplete version is first enriched again.
    private let reenrichmentDelay: Duration
    /// Versions to enrich again kept at the most; beyond, the oldest are dropped (with a warning and a metric).
    public static let maximumPendingEnrichments = 10_000
    /// Pending re-enrichments dropped beyond ``maximumPendingEnrichments`` so far.
    public private(set) var droppedEnrichments = 0
    /// Records below this sequence number are folded in.
    private var foldedUpTo: UInt64 = 0
    /// The overlap window, in microseconds.
    private let overlapMicroseconds: Int64
    /// Delivered versions with an `updatedAt` in the overlap window below the boundary (and at it).
    private var recent: [Checkpoint.Version: RFC3339Timestamp] = [:]

    public init(resumingFrom checkpoint: Checkpoint?, overlap: Duration = .zero, reenrichmentDelay: Duration = .seconds(30)) {
        self.reached = checkpoint
        self.reached?.deliveredInOverlap = nil
        self.reached?.pendingEnrichment = nil
        self.reenrichmentDelay = reenrichmentDelay
        for entry in checkpoint?.pendingEnrichment ?? [] { reenrichment[entry.id] = entry }
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
    public mutating func recordFetched(sequence: UInt64, id: String, updatedAt: String?, reenrichment: Bool = false) {
        pending[sequence] = Fetched(id: id, updatedAt: updatedAt, reenrichment: reenrichment)
    }

    /// Notes that the record with `sequence` goes out with a part that failed transiently: once delivered, it is
    /// remembered for re-enrichment.
    public mutating func markIncomplete(sequence: UInt64) {
        pending[sequence]?.incomplete = true
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
            if noteReenrichment(of: version, text: text, time: time) { changed = true }
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

    /// Keeps the re-enrichment list up to date with a delivered version: an incomplete one is added, a complete one
    /// ends a pending re-enrichment of that version or an older one. Returns whether the list changed.
    private mutating func noteReenrichment(of version: Fetched, text: String, time: RFC3339Timestamp) -> Bool {
        if version.incomplete {
            let attempts = reenrichment[version.id].map { RFC3339Timestamp.sameInstant($0.updatedAt, text) ? $0.attempts : 0 } ?? 0
            let notBefore = RFC3339Timestamp(microseconds: RFC3339Timestamp.now.microseconds + reenrichmentDelay.saturatingMicroseconds)
            reenrichment[version.id] = .init(id: version.id, updatedAt: text, attempts: attempts, notBefore: notBefore.description)
            PipelineMetrics.reenrichment("scheduled")
            if reenrichment.count > Self.maximumPendingEnrichments, let oldest = reenrichment.values.min(by: Checkpoint.PendingEnrichment.oldestFirst) {
                reenrichment[oldest.id] = nil
                droppedEnrichments += 1
                PipelineMetrics.reenrichment("dropped")
            }
            return true
        }
        guard let waiting = reenrichment[version.id], let waitingTime = RFC3339Timestamp(waiting.updatedAt) else { return false }
        if waitingTime == time, version.reenrichment {
            PipelineMetrics.reenrichment("succeeded")
        } else if waitingTime < time {
            PipelineMetrics.reenrichment("superseded")
        } else {
            return false
        }
        reenrichment[version.id] = nil
        return true
    }

    /// Up to `limit` pending re-enrichments due at `now`, oldest first.
    public func dueEnrichments(now: RFC3339Timestamp, limit: Int) -> [Checkpoint.PendingEnrichment] {
        Array(reenrichment.values.filter { (RFC3339Timestamp($0.notBefore) ?? now) <= now }
            .sorted(by: Checkpoint.PendingEnrichment.oldestFirst).prefix(limit))
    }

    /// A re-enrichment failed again: tried again at `notBefore`.
    public mutating func enrichmentFailedAgain(id: String, notBefore: RFC3339Timestamp) {
        reenrichment[id]?.attempts += 1
        reenrichment[id]?.notBefore = notBefore.description
    }

    /// A re-enrichment given up (attempts exhausted), or no longer needed (the threat deleted, or a newer version).
    public mutating func dropEnrichment(id: String) {
        reenrichment[id] = nil
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
