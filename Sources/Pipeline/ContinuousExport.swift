import NIOConcurrencyHelpers
import Logging
import RawJSON
import CoreMetrics

/// `run` mode: a poll every `interval` for the versions updated since the checkpoint, each delivered once, with the
/// checkpoint moved only past versions every sink acknowledged and saved as it moves.
///
/// The sinks live as long as the run: opened once, flushed at the end of every poll (so every acknowledgement of a
/// poll is in before the next begins), and closed on every way out — a stop, a failure that ends the run, or
/// cancellation. A sink that cannot flush after a failed poll is closed and replaced at the next poll.
public struct ContinuousExport<Source: ThreatSource>: Sendable {
    /// The parts: a source per poll, and the sinks (made once, and again only after a sink failed).
    public struct Parts: Sendable {
        /// The source listing `updatedAt__gte=<since>` sorted by `updatedAt` ascending.
        public var makeSource: @Sendable (_ since: String) throws -> Source
        /// Fresh sinks, not yet opened.
        public var makeSinks: @Sendable () -> [any RecordSink]
        public var encoder: any RecordEncoder
        /// Exactly once: the transactional sink writes the checkpoint with each transaction's records. The stored
        /// checkpoint is read again each time the sinks are opened — opening fences any older producer of the same
        /// instance, so nothing can commit behind the checkpoint read.
        public var transactionCheckpoints: TransactionCheckpoints?
        /// A source listing exactly these threats (by `ids`): how versions to enrich again are looked up.
        public var makeLookupSource: (@Sendable (_ ids: [String]) throws -> Source)?

        public init(
            makeSource: @escaping @Sendable (_ since: String) throws -> Source,
            makeSinks: @escaping @Sendable () -> [any RecordSink],
            encoder: any RecordEncoder,
            transactionCheckpoints: TransactionCheckpoints? = nil,
            makeLookupSource: (@Sendable (_ ids: [String]) throws -> Source)? = nil
        ) {
            self.makeLookupSource = makeLookupSource
            self.makeSource = makeSource
            self.makeSinks = makeSinks
            self.encoder = encoder
            self.transactionCheckpoints = transactionCheckpoints
        }
    }

    let parts: Parts
    let pipelineConfiguration: ExportPipeline<ReenrichingSource<VersionFilteringSource<Source>>>.Configuration
    let interval: Duration
    /// Where the first poll starts when there is no checkpoint.
    let initialSince: String
    /// Where the checkpoint is loaded from at the start and saved to as it moves (from the polling task only).
    let store: any CheckpointStore
    let stop: StopSignal
    /// Updated after every poll.
    public let health: PollHealth
    /// The longest wait between polls after failures (the wait doubles from `interval` up to it).
    let maximumBackoff: Duration
    /// How far before the checkpoint each poll starts, for versions that become visible late.
    let overlap: Duration
    let logger: Logger
    /// Labels added to the poll and checkpoint-lag metrics (`shard` in a group).
    let metricDimensions: [(String, String)]
    /// How many times a version delivered with a part that failed is enriched again (0: never).
    let reenrichmentAttempts: Int

    public init(
        parts: Parts,
        pipelineConfiguration: ExportPipeline<ReenrichingSource<VersionFilteringSource<Source>>>.Configuration,
        interval: Duration,
        initialSince: String,
        store: any CheckpointStore,
        stop: StopSignal,
        health: PollHealth = PollHealth(),
        maximumBackoff: Duration = .seconds(300),
        overlap: Duration = .zero,
        logger: Logger,
        metricDimensions: [(String, String)] = [],
        reenrichmentAttempts: Int = 0
    ) {
        self.metricDimensions = metricDimensions
        self.reenrichmentAttempts = reenrichmentAttempts
        self.parts = parts
        self.pipelineConfiguration = pipelineConfiguration
        self.interval = interval
        self.initialSince = initialSince
        self.store = store
        self.stop = stop
        self.health = health
        self.maximumBackoff = max(maximumBackoff, interval)
        self.overlap = overlap
        self.logger = logger
    }

    /// The stored checkpoint, and a line that says what reading it took.
    private func loadCheckpoint() async throws -> Checkpoint? {
        let checkpoint = try await store.load()
        if let read = store.lastLoadDescription {
            logger.notice("checkpoint loaded", metadata: ["from": "\(store.location)", "read": "\(read)", "updatedAt": "\(checkpoint.map { "\($0.updatedAt)" } ?? "none")"])
        }
        return checkpoint
    }

    /// Loads the stored checkpoint, then polls until a stop is requested; returns the last checkpoint. A poll that
    /// fails is logged and tried again from the checkpoint it reached, after a backoff that doubles from `interval`
    /// up to `maximumBackoff`; `handling` says which failures stop the run and which need a person.
    public func run(handling: @Sendable (any Error) -> PollFailureHandling) async throws -> Checkpoint? {
        // Exactly once, the checkpoint is read once the sinks are open (opening fences older producers), not before.
        var checkpoint = parts.transactionCheckpoints == nil ? try await loadCheckpoint() : nil
        var sinks: OpenSinks?
        while !stop.isStopRequested, !Task.isCancelled {
            let began = ContinuousClock.now
            let outcome: Result<ExportSummary, any Error>
            do {
                let open: OpenSinks
                if let sinks {
                    open = sinks
                } else {
                    open = try await OpenSinks.open(parts.makeSinks())
                    if parts.transactionCheckpoints != nil {
                        sinks = open
                        checkpoint = try await loadCheckpoint()
                    }
                }
                sinks = open
                let (reached, result, sinksUsable) = await poll(from: checkpoint, sinks: open)
                checkpoint = reached
                outcome = result
                if !sinksUsable {
                    await open.close(logger: logger)
                    sinks = nil
                }
            } catch {
                outcome = .failure(error)
            }
            var wait = interval
            switch outcome {
            case .success(let summary):
                health.recordSuccess()
                PipelineMetrics.poll(succeeded: true, metricDimensions)
                // A poll that brought a backlog (a burst of new threats) may have left more behind it: the next one
                // starts at once rather than an interval after this one began.
                if summary.write.records >= Self.backlogRecords { wait = .zero }
            case .failure(let error):
                let action = handling(error)
                if action == .stop {
                    await sinks?.close(logger: logger)
                    throw error
                }
                PipelineMetrics.poll(succeeded: false, metricDimensions)
                let failures = health.recordFailure(error)
                wait = backoff(afterFailures: failures)
                let metadata: Logger.Metadata = [
                    "error": "\(error)", "consecutive_failures": "\(failures)", "next_poll_in": "\(wait)",
                ]
                if action == .retryAndAlert {
                    logger.critical("poll failed and will keep failing until the cause is fixed; retrying with backoff", metadata: metadata)
                } else {
                    logger.error("poll failed; retrying from the checkpoint after a backoff", metadata: metadata)
                }
            }
            await waitForNextPoll(after: began, wait: wait)
        }
        await sinks?.close(logger: logger)
        return checkpoint
    }

    /// A poll that delivered at least this many records is followed by the next at once.
    public static var backlogRecords: Int { 100 }

    /// The wait before the next poll after `failures` failed polls in a row.
    func backoff(afterFailures failures: Int) -> Duration {
        min(interval * (1 << min(failures - 1, 16)), maximumBackoff)
    }

    /// One poll; returns the checkpoint it reached (saved), also when the poll failed part-way, and whether the
    /// sinks can serve the next poll.
    func poll(from checkpoint: Checkpoint?, sinks: OpenSinks) async -> (Checkpoint?, Result<ExportSummary, any Error>, Bool) {
        do {
            return try await pollOnce(from: checkpoint, sinks: sinks)
        } catch {
            return (checkpoint, .failure(error), true)
        }
    }

    private func pollOnce(from checkpoint: Checkpoint?, sinks: OpenSinks) async throws -> (Checkpoint?, Result<ExportSummary, any Error>, Bool) {
        var covered = CheckpointState(resumingFrom: checkpoint, overlap: overlap, reenrichmentDelay: interval)
        let reenriched = await reenrich(&covered)
        let state = NIOLockedValueBox(covered)
        let since = covered.pollStart ?? initialSince
        let source = ReenrichingSource(base: VersionFilteringSource(base: try parts.makeSource(since), covered: covered), reenriched: reenriched)
        var configuration = pipelineConfiguration
        configuration.stop = stop
        configuration.openSinks = sinks.router
        configuration.onFetched = { threat in
            state.withLockedValue {
                $0.recordFetched(sequence: threat.sequence, id: threat.id, updatedAt: threat.updatedAt, reenrichment: threat.reenrichmentAttempt != nil)
            }
        }
        configuration.onWatermarkAdvanced = { watermark in
            _ = state.withLockedValue { $0.fold(toWatermark: watermark) }
        }
        parts.transactionCheckpoints?.use { watermark in
            state.withLockedValue { current in
                var preview = current
                _ = preview.fold(toWatermark: watermark)
                return preview.checkpoint
            }
        }
        defer { parts.transactionCheckpoints?.use(nil) }
        let encoder: any RecordEncoder = reenrichmentAttempts > 0
            ? IncompleteNotingEncoder(base: parts.encoder) { sequence in state.withLockedValue { $0.markIncomplete(sequence: sequence) } }
            : parts.encoder
        let pipeline = ExportPipeline(source: source, encoder: encoder, sinks: sinks.sinks, configuration: configuration)
        // Saves the checkpoint as it moves during a long poll, at most once a second.
        let saver = Task {
            var saved = checkpoint
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                let current = state.withLockedValue { $0.checkpoint }
                Self.recordLag(of: current ?? checkpoint, metricDimensions)
                if let current, current != saved {
                    try? await store.save(current)
                    saved = current
                }
            }
        }
        let outcome: Result<ExportSummary, any Error>
        do {
            outcome = .success(try await pipeline.run())
        } catch {
            outcome = .failure(error)
        }
        var sinksUsable = true
        if case .failure = outcome {
            // What the sinks hold is made durable, so that its acknowledgements move the checkpoint before the
            // next poll; a sink that cannot do even that is replaced.
            sinksUsable = await sinks.flush(logger: logger)
        }
        saver.cancel()
        await saver.value
        let reached = state.withLockedValue { $0.checkpoint }
        Self.recordLag(of: reached ?? checkpoint, metricDimensions)
        if let reached, reached != checkpoint { try await store.save(reached) }
        guard case .success(let summary) = outcome else { return (reached, outcome, sinksUsable) }
        logger.notice(
            "poll done",
            metadata: [
                "since": "\(since)", "delivered": "\(summary.write.records)",
                "checkpoint": "\(reached?.updatedAt ?? "none")",
            ]
        )
        return (reached, outcome, true)
    }

    /// Sets the checkpoint-lag gauge: how far behind now the delivered versions are.
    static func recordLag(of checkpoint: Checkpoint?, _ dimensions: [(String, String)]) {
        guard let checkpoint, let instant = RFC3339Timestamp(checkpoint.updatedAt) else { return }
        PipelineMetrics.checkpointLag(dimensions).record(Double(RFC3339Timestamp.now.microseconds - instant.microseconds) / 1e6)
    }

    private func waitForNextPoll(after began: ContinuousClock.Instant, wait: Duration) async {
        await stop.wait(until: began + wait)
    }
}

/// The sinks of a run, opened once with acknowledgers that go to the pass under way.
struct OpenSinks: Sendable {
    let sinks: [any RecordSink]
    let router: AcknowledgementRouter

    /// Opens every sink; on a failure, closes those already open and throws.
    static func open(_ sinks: [any RecordSink]) async throws -> OpenSinks {
        let router = AcknowledgementRouter()
        for (index, sink) in sinks.enumerated() {
            do {
                try await sink.open(acknowledger: router.acknowledger(forSink: index))
            } catch {
                for opened in sinks[..<index] { try? await opened.close() }
                try? await sink.close()
                throw PipelineError.sinkFailed(sink, error)
            }
        }
        return OpenSinks(sinks: sinks, router: router)
    }

    /// Flushes every sink; false when one could not.
    func flush(logger: Logger) async -> Bool {
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

    /// Closes every sink, whatever happened to it.
    func close(logger: Logger) async {
        for sink in sinks {
            do {
                try await sink.close()
            } catch {
                logger.warning("a sink did not close cleanly", metadata: ["sink": "\(sink.name)", "error": "\(error)"])
            }
        }
    }
}
