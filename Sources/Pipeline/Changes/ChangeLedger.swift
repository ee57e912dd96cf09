import CoreMetrics
import DequeModule
import Logging
import NIOConcurrencyHelpers
import RawJSON

/// The change of every record, and the state it is computed from, kept by acknowledgement: a version's entry is
/// stored only once every sink has acknowledged the version (before the checkpoint that covers it is stored), so a
/// crash can neither lose a change nor say one twice.
///
/// Until then the entry waits here, in order: the next version of the same threat is compared with it (the version
/// listed before), and a pass that fails drops the entries of what it did not deliver. Memory is
/// bounded by the records in flight and those acknowledged since the last save (at most a second's worth), never
/// by the number of threats: the rest is in the store.
public final class ChangeLedger: Sendable {
    /// What `run` sends.
    public enum Emit: String, Sendable, CaseIterable {
        /// Every version.
        case all
        /// New threats and versions where a tracked field changed; the others are acknowledged unsent.
        case changes
    }

    public let store: any ThreatStateStore
    public let detector: ChangeDetector
    public let emit: Emit
    /// Threats not listed for this long are forgotten.
    public let retention: Duration
    private let state = NIOLockedValueBox(State())

    private struct State {
        var horizon: RFC3339Timestamp?
        /// The newest entry listed, per threat, until the store has it.
        var overlay: [String: ThreatStateEntry] = [:]
        /// Entries of the pass under way, sorted by sequence number, waiting for the watermark. The invariant: no
        /// checkpoint is stored that covers a record whose entry is not stored — every entry below the watermark
        /// moves to `acknowledged` when the watermark passes it, and is saved before the checkpoint that covers it.
        var pending: Deque<(sequence: UInt64, entry: ThreatStateEntry)> = []
        /// Acknowledged, not yet stored.
        var acknowledged: [ThreatStateEntry] = []
        var lastForget: Int64 = 0
        /// Since when every save failed, and the last failure; nil while saves succeed.
        var failing: (since: ContinuousClock.Instant, error: String)?
    }

    /// How long saves may fail, delivery paused, before the run stops (exit 65).
    public let saveFailureLimit: Duration
    private static let logger = Logger(label: "threatpipe.state")

    public init(store: any ThreatStateStore, tracked: TrackedFields, emit: Emit, retention: Duration, saveFailureLimit: Duration = .seconds(60)) {
        self.store = store
        self.saveFailureLimit = saveFailureLimit
        self.detector = ChangeDetector(tracked: tracked)
        self.emit = emit
        self.retention = retention
    }

    /// Opens the store and forgets what retention says.
    public func open() async throws {
        // Exported from the start at 0: an alert on a rate of them needs the series before the first one.
        Counter(label: "threatpipe_state_save_failures_total").increment(by: 0)
        Counter(label: "threatpipe_enrichment_skipped_total").increment(by: 0)
        for reason in ["horizon", "garbage"] {
            Counter(label: "threatpipe_state_records_ignored_total", dimensions: [("reason", reason)]).increment(by: 0)
        }
        let horizon = try await store.open()
        state.withLockedValue { $0.horizon = RFC3339Timestamp(horizon) }
        try await forgetExpired()
    }

    /// The change of `threat` against the version of it listed before; notes the entry to store once `threat` is
    /// acknowledged. Called in fetch order, when the threat is listed — before it is enriched, so that with
    /// `--emit changes` a version that changed nothing tracked costs no enrichment request.
    /// While saves fail, waits (delivery pauses: no record reaches the sinks, so nothing more waits in memory) and
    /// tries the save again every second; throws a ``ThreatStateError`` naming the store once they have failed for
    /// ``saveFailureLimit``.
    public func detect(_ threat: ListedThreat) async throws -> (change: ThreatChange, entry: ThreatStateEntry) {
        try await waitWhileSavesFail()
        let (held, horizon) = state.withLockedValue { ($0.overlay[threat.id], $0.horizon) }
        let previous: ThreatStateEntry?
        if let held { previous = held } else { previous = try await store.entry(for: threat.id) }
        let (change, entry) = detector.detect(threat, previous: previous, horizon: horizon, now: Self.now())
        state.withLockedValue { state in
            state.overlay[threat.id] = entry
            // In sequence order, whatever order the records reach the sinks in (enrichment finishes out of order):
            // the watermark covers sequence numbers, so every entry below it is stored before the checkpoint that
            // covers it. Records come nearly in order: the place is found from the back.
            var index = state.pending.endIndex
            while index > state.pending.startIndex, state.pending[state.pending.index(before: index)].sequence > threat.sequence {
                index = state.pending.index(before: index)
            }
            state.pending.insert((threat.sequence, entry), at: index)
        }
        return (change, entry)
    }

    /// Every record below `watermark` is acknowledged by every sink: their entries are ready to store.
    func acknowledged(below watermark: UInt64) {
        let ready = state.withLockedValue { state -> [ThreatStateEntry] in
            var ready: [ThreatStateEntry] = []
            while let first = state.pending.first, first.sequence < watermark {
                ready.append(state.pending.removeFirst().entry)
            }
            state.acknowledged += ready
            return ready
        }
        count(ready)
    }

    /// These records are acknowledged by every sink (above the watermark, maybe): their entries are ready to store
    /// now — storing one early never hurts, the checkpoint does not cover it yet.
    func acknowledged(sequences: [UInt64]) {
        let ready = state.withLockedValue { state -> [ThreatStateEntry] in
            var ready: [ThreatStateEntry] = []
            for sequence in sequences {
                // Records come nearly in order: searched from the front.
                guard let index = state.pending.firstIndex(where: { $0.sequence == sequence }) else { continue }
                ready.append(state.pending.remove(at: index).entry)
            }
            state.acknowledged += ready
            return ready
        }
        count(ready)
    }

    private func count(_ ready: [ThreatStateEntry]) {
        guard !ready.isEmpty else { return }
        var kinds: [ThreatChange.Kind: Int] = [:]
        var fields: [String: Int] = [:]
        for entry in ready {
            kinds[entry.change.kind, default: 0] += 1
            for field in entry.change.fields { fields[field.path, default: 0] += 1 }
        }
        for (kind, count) in kinds { Self.changesCounter(kind).increment(by: count) }
        for (path, count) in fields { Counter(label: "threatpipe_changed_fields_total", dimensions: [("field", path)]).increment(by: count) }
    }

    /// Stores what was acknowledged; called before the checkpoint that covers it is stored.
    public func persist() async throws {
        let ready = state.withLockedValue { state in
            defer { state.acknowledged = [] }
            return state.acknowledged
        }
        guard !ready.isEmpty else {
            state.withLockedValue { $0.failing = nil }
            return
        }
        do {
            // Not cut short by the cancellation of whoever asked (the session's ticker, at the end of a pass): a
            // save once begun finishes, and the next one finds nothing left.
            let store = self.store
            try await Task { try await store.save(ready) }.value
        } catch {
            // Kept, to be stored with the next save: the checkpoint does not move past them meanwhile.
            let first = state.withLockedValue { state -> Bool in
                state.acknowledged = ready + state.acknowledged
                defer { state.failing = (state.failing?.since ?? .now, "\(error)") }
                return state.failing == nil
            }
            Counter(label: "threatpipe_state_save_failures_total").increment()
            if first {
                Self.logger.warning("the threat state cannot be saved: delivery pauses until it can", metadata: [
                    "store": "\(store.location)", "error": "\(error)", "stops_after": "\(saveFailureLimit)",
                ])
            }
            throw error
        }
        let healed = state.withLockedValue { state -> Bool in
            defer { state.failing = nil }
            return state.failing != nil
        }
        if healed { Self.logger.notice("the threat state is saved again: delivery resumes", metadata: ["store": "\(store.location)"]) }
        state.withLockedValue { state in
            for entry in ready where state.overlay[entry.id] == entry { state.overlay[entry.id] = nil }
        }
    }

    /// The pass ended: stores what it acknowledged, and forgets what it did not deliver (the next pass fetches it
    /// again and compares it with what was delivered).
    func endPass() async throws {
        try await persist()
        state.withLockedValue { state in
            for (_, entry) in state.pending where state.overlay[entry.id] == entry { state.overlay[entry.id] = nil }
            state.pending = []
        }
        let hour: Int64 = 3600
        if Self.now() - state.withLockedValue({ $0.lastForget }) >= hour { try await forgetExpired() }
    }

    /// Waits while saves fail, trying again every second; throws once they have failed for ``saveFailureLimit``.
    private func waitWhileSavesFail() async throws {
        while let failing = state.withLockedValue({ $0.failing }) {
            if ContinuousClock.now - failing.since >= saveFailureLimit {
                throw ThreatStateError(
                    message: "the threat state \(store.location) could not be saved for \(saveFailureLimit.components.seconds) s (\(failing.error)); "
                        + "delivery stopped; the checkpoint was not stored past an entry that was not, so the next run delivers those versions again"
                )
            }
            try await Task.sleep(for: .seconds(1))
            _ = try? await persist()
        }
    }

    /// Whether saves are failing (delivery paused).
    public var isPaused: Bool { state.withLockedValue { $0.failing != nil } }

    /// Entries waiting: listed or acknowledged, not yet stored.
    public var heldCount: Int { state.withLockedValue { $0.overlay.count } }

    private func forgetExpired() async throws {
        let now = Self.now()
        state.withLockedValue { $0.lastForget = now }
        let forgotten = try await store.forget(notSeenSince: now - Int64(retention.components.seconds))
        if forgotten > 0 { Counter(label: "threatpipe_state_forgotten_total").increment(by: forgotten) }
    }

    static func now() -> Int64 { RFC3339Timestamp.now.microseconds / 1_000_000 }

    static func changesCounter(_ kind: ThreatChange.Kind) -> Counter {
        Counter(label: "threatpipe_changes_total", dimensions: [("kind", kind.rawValue)])
    }
}
