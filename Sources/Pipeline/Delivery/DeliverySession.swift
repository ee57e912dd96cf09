import CoreMetrics
import Logging
import NIOConcurrencyHelpers
import RawJSON

/// The path from a record to its acknowledged checkpoint, as one type: the sinks (opened, flushed, replaced when one
/// fails, closed on every way out), the acknowledgement tracker of each pass, and the checkpoint kept by a
/// ``CheckpointPolicy`` — ``AtLeastOnceCheckpoints`` or ``TransactionalCheckpoints`` — or none (`export`).
///
/// The runtime chooses the session once; `export`, `run`, each shard of `run --group` and `audit --repair` deliver
/// through one. A pass (``deliver(from:_:)``) gets a ``DeliveryPass``: the records it writes are acknowledged by the
/// sinks through the pass's tracker, the tracker's low watermark folds their versions into the pass's checkpoint
/// state, and the policy stores what the pass reached.
public actor DeliverySession {
    /// How long the sinks live.
    public enum Lifetime: Sendable {
        /// One pass (`export`): a failure closes the sinks at once.
        case onePass
        /// Many passes (`run`): a failed pass's sinks are flushed, so that its acknowledgements move the checkpoint
        /// before the next pass, and replaced only when they cannot be.
        case manyPasses
    }

    /// How the checkpoint is kept; nil: not at all.
    public nonisolated let policy: (any CheckpointPolicy)?
    private let makeSinks: @Sendable () -> [any RecordSink]
    private let lifetime: Lifetime
    private let logger: Logger
    /// Labels added to the checkpoint-lag metric (`shard` in a group).
    private let metricDimensions: [(String, String)]
    private nonisolated let router = AcknowledgementRouter()
    private var sinks: [any RecordSink]?
    private var loaded = false
    /// The threats' state and each record's change (`run` with state); nil: none.
    public nonisolated let changes: ChangeLedger?
    private var changesOpened = false
    /// The checkpoint: loaded, then moved by every pass (the last one stored).
    public private(set) var checkpoint: Checkpoint?

    /// - Parameter makeSinks: fresh sinks, not yet opened; called again only to replace sinks that failed.
    public init(
        sinks makeSinks: @escaping @Sendable () -> [any RecordSink], checkpoints policy: (any CheckpointPolicy)?,
        lifetime: Lifetime, logger: Logger, metricDimensions: [(String, String)] = [], changes: ChangeLedger? = nil
    ) {
        self.changes = changes
        self.makeSinks = makeSinks
        self.policy = policy
        self.lifetime = lifetime
        self.logger = logger
        self.metricDimensions = metricDimensions
    }

    /// Records acknowledged by every sink in the pass under way (its low watermark): `export`'s progress.
    public nonisolated var delivered: UInt64 { router.current?.snapshot.lowWatermark ?? 0 }

    /// Opens the sinks unless they are open, and loads the stored checkpoint when the policy says: once, before
    /// the first opening (at least once), or after every opening (transactional). Returns the checkpoint to resume
    /// from. A sink that cannot open closes those opened before it.
    public func prepare() async throws -> Checkpoint? {
        // The threats' state is read where the checkpoint is: exactly once, after the sinks opened (fencing aborted
        // what a killed predecessor left open, so the state read is the committed one).
        if policy?.loadsWhenSinksOpen != true { try await openChanges() }
        if let policy, !policy.loadsWhenSinksOpen, !loaded {
            checkpoint = try await load(policy.store)
            loaded = true
        }
        if sinks == nil {
            let opening = makeSinks()
            precondition(!opening.isEmpty, "at least one sink")
            try await Self.open(opening, router: router)
            sinks = opening
            if let policy, policy.loadsWhenSinksOpen {
                checkpoint = try await load(policy.store)
            }
        }
        try await openChanges()
        return checkpoint
    }

    /// Opens (restores) the threats' state, once.
    private func openChanges() async throws {
        guard let changes, !changesOpened else { return }
        let began = ContinuousClock.now
        try await changes.open()
        changesOpened = true
        let entries = (try? await changes.store.count()) ?? 0
        logger.notice("threat state opened", metadata: [
            "at": "\(changes.store.location)", "entries": "\(entries)",
            "took_ms": "\(Int((ContinuousClock.now - began) / .milliseconds(1)))", "emit": "\(changes.emit.rawValue)",
        ])
    }

    /// Runs one pass over the open sinks (``prepare()`` first), from `covered` — the checkpoint state the pass
    /// resumes (nil: the session's checkpoint as it is). The checkpoint the pass reaches is stored by the policy;
    /// a store that fails at the end fails the pass, and the session keeps the last checkpoint it stored.
    public func deliver(
        from covered: CheckpointProgress? = nil,
        _ body: @Sendable (DeliveryPass) async throws -> ExportSummary
    ) async -> Result<ExportSummary, any Error> {
        guard let sinks else {
            return .failure(PipelineError(code: .sinkFailed, message: "a pass began before its sinks were opened"))
        }
        let start = checkpoint
        let state = policy.map { _ in NIOLockedValueBox(covered ?? CheckpointProgress(resumingFrom: start)) }
        // Without a checkpoint (export) nothing listens to the watermark: the progress line reads it from the tracker.
        // The ledger hears of the watermark before the checkpoint folds it: by the time a checkpoint is read to be
        // stored, the entries of every version it covers wait to be stored before it.
        let changes = self.changes
        let recordsDone: (@Sendable ([UInt64]) -> Void)? = changes.map { ledger in
            { @Sendable done in ledger.acknowledged(sequences: done) }
        }
        let tracker = AcknowledgementTracker(
            sinkCount: sinks.count,
            onWatermarkAdvanced: state.map { state -> @Sendable (UInt64) -> Void in
                { reached in
                    changes?.acknowledged(below: reached)
                    _ = state.withLockedValue { $0.fold(toWatermark: reached) }
                }
            },
            // Each record's entry is ready to store as soon as every sink has it, below the watermark or not: a later
            // version acknowledged before an earlier one of the same threat is stored, and after a crash delivered
            // again with the change it said (not the two folded into one).
            onRecordsDone: recordsDone
        )
        router.route(to: tracker)
        let pass = DeliveryPass(sinks: sinks, closesSinksAtEnd: lifetime == .onePass, tracker: tracker, covered: state, changes: changes)
        policy?.begin(pass)
        let ticker = policy.map { policy in
            Task { [logger, metricDimensions] in
                await Self.persistWhileDelivering(pass, from: start, policy: policy, changes: changes, logger: logger, metricDimensions)
            }
        }
        var outcome: Result<ExportSummary, any Error>
        do {
            outcome = .success(try await body(pass))
        } catch {
            outcome = .failure(error)
        }
        if case .failure = outcome {
            await afterFailedPass()
        }
        ticker?.cancel()
        let stored = await ticker?.value ?? start
        policy?.end()
        do {
            try await changes?.endPass()
        } catch {
            // The entries stay for the next save; the checkpoint must not pass them meanwhile.
            logger.warning("the threat state could not be saved", metadata: ["error": "\(error)"])
            checkpoint = stored
            if case .success = outcome { outcome = .failure(error) }
            return outcome
        }
        guard let policy else { return outcome }
        let reached = pass.checkpoint
        Self.recordLag(of: reached ?? start, metricDimensions)
        checkpoint = stored
        if let reached, reached != stored {
            do {
                try await policy.store(reached)
                checkpoint = reached
            } catch {
                outcome = .failure(error)
            }
        }
        return outcome
    }

    /// Makes what the sinks hold durable, so that its acknowledgements count (many passes); closes them when they
    /// cannot, or when they live for one pass only.
    private func afterFailedPass() async {
        guard let sinks else { return }
        if lifetime == .manyPasses, await Self.flush(sinks, logger: logger) { return }
        await close()
    }

    /// Closes the sinks, whatever happened to them; the next ``prepare()`` opens fresh ones.
    public func close() async {
        guard let sinks else { return }
        self.sinks = nil
        for sink in sinks {
            do {
                try await sink.close()
            } catch {
                logger.warning("a sink did not close cleanly", metadata: ["sink": "\(sink.name)", "error": "\(error)"])
            }
        }
    }

    // MARK: - The parts

    /// The stored checkpoint, and a line that says what reading it took.
    private func load(_ store: any CheckpointStore) async throws -> Checkpoint? {
        let checkpoint = try await store.load()
        if let read = store.lastLoadDescription {
            logger.notice("checkpoint loaded", metadata: ["from": "\(store.location)", "read": "\(read)", "updatedAt": "\(checkpoint.map { "\($0.updatedAt)" } ?? "none")"])
        }
        return checkpoint
    }

    /// Opens every sink with the router's acknowledgers; on a failure, closes those already open and throws.
    private static func open(_ sinks: [any RecordSink], router: AcknowledgementRouter) async throws {
        for (index, sink) in sinks.enumerated() {
            do {
                try await sink.open(acknowledger: router.acknowledger(forSink: index))
            } catch {
                for opened in sinks[..<index] { try? await opened.close() }
                try? await sink.close()
                throw PipelineError.sinkFailed(sink, error)
            }
        }
    }

    /// Flushes every sink; false when one could not.
    private static func flush(_ sinks: [any RecordSink], logger: Logger) async -> Bool {
        var flushed = true
        for sink in sinks {
            do {
                try await sink.flush()
            } catch where FailureKind.of(error) == .fenced {
                // Not replaced: the run stops, and its one line says why.
                flushed = false
            } catch {
                logger.warning("a sink could not flush after a failed poll; it is replaced", metadata: ["sink": "\(sink.name)", "error": "\(error)"])
                flushed = false
            }
        }
        return flushed
    }

    /// Until cancelled, while the pass delivers: stores the acknowledged state entries four times a second (with
    /// state), and every second sets the lag gauge and — when the policy stores during a pass — stores the checkpoint
    /// if it moved. A failed store is logged and counted, and tried again a second later. Returns the last
    /// checkpoint stored.
    private static func persistWhileDelivering(
        _ pass: DeliveryPass, from start: Checkpoint?, policy: any CheckpointPolicy, changes: ChangeLedger?, logger: Logger,
        _ dimensions: [(String, String)]
    ) async -> Checkpoint? {
        var stored = start
        // With the threats' state, four ticks a second: the acknowledged entries are stored at each (what waits in
        // memory stays a quarter second's worth), the checkpoint at every fourth.
        let ticksPerSecond = changes == nil ? 1 : 4
        var ticks = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1) / ticksPerSecond)
            ticks += 1
            if let changes, ticks % ticksPerSecond != 0 {
                // A failure here is retried by the next tick, and reported by the next checkpoint save.
                _ = try? await Task { try await changes.persist() }.value
                continue
            }
            let current = pass.checkpoint
            recordLag(of: current ?? stored, dimensions)
            guard policy.storesDuringPass, let current, current != stored else { continue }
            do {
                // The state of every version the checkpoint covers is stored first. A store once begun finishes
                // even when the pass ends meanwhile (the ticker is cancelled then): not a failure, not half done.
                try await Task {
                    try await changes?.persist()
                    try await policy.store(current)
                }.value
                stored = current
            } catch {
                Counter(label: "threatpipe_checkpoint_save_failures_total", dimensions: dimensions).increment()
                logger.warning("the checkpoint could not be saved; trying again", metadata: [
                    "error": "\(error)", "kind": "\(FailureKind.of(error)?.rawValue ?? "internal")",
                ])
            }
        }
        return stored
    }

    /// Sets the checkpoint-lag gauge: how far behind now the delivered versions are.
    static func recordLag(of checkpoint: Checkpoint?, _ dimensions: [(String, String)]) {
        guard let checkpoint, let instant = RFC3339Timestamp(checkpoint.updatedAt) else { return }
        PipelineMetrics.checkpointLag(dimensions).record(Double(RFC3339Timestamp.now.microseconds - instant.microseconds) / 1e6)
    }
}
