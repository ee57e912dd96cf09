import Logging
import RawJSON
import Synchronization

/// `run` mode: a poll every `interval` for the versions updated since the checkpoint, each delivered once, with the
/// checkpoint moved only past versions every sink acknowledged and saved as it moves.
public struct ContinuousExport<Source: ThreatSource>: Sendable {
    /// The per-poll parts, built afresh for each poll.
    public struct Parts: Sendable {
        /// The source listing `updatedAt__gte=<since>` sorted by `updatedAt` ascending.
        public var makeSource: @Sendable (_ since: String) throws -> Source
        public var makeSinks: @Sendable () -> [any RecordSink]
        public var encoder: any RecordEncoder

        public init(
            makeSource: @escaping @Sendable (_ since: String) throws -> Source,
            makeSinks: @escaping @Sendable () -> [any RecordSink],
            encoder: any RecordEncoder
        ) {
            self.makeSource = makeSource
            self.makeSinks = makeSinks
            self.encoder = encoder
        }
    }

    let parts: Parts
    let pipelineConfiguration: ExportPipeline<VersionFilteringSource<Source>>.Configuration
    let interval: Duration
    /// Where the first poll starts when there is no checkpoint.
    let initialSince: String
    /// Persists a checkpoint (atomically); called from the polling task only.
    let save: @Sendable (Checkpoint) throws -> Void
    let stop: StopSignal
    /// Updated after every poll.
    public let health: PollHealth
    /// The longest wait between polls after failures (the wait doubles from `interval` up to it).
    let maximumBackoff: Duration
    let logger: Logger

    public init(
        parts: Parts,
        pipelineConfiguration: ExportPipeline<VersionFilteringSource<Source>>.Configuration,
        interval: Duration,
        initialSince: String,
        save: @escaping @Sendable (Checkpoint) throws -> Void,
        stop: StopSignal,
        health: PollHealth = PollHealth(),
        maximumBackoff: Duration = .seconds(300),
        logger: Logger
    ) {
        self.parts = parts
        self.pipelineConfiguration = pipelineConfiguration
        self.interval = interval
        self.initialSince = initialSince
        self.save = save
        self.stop = stop
        self.health = health
        self.maximumBackoff = max(maximumBackoff, interval)
        self.logger = logger
    }

    /// Polls until a stop is requested; returns the last checkpoint. A poll that fails is logged and tried again from
    /// the checkpoint it reached, after a backoff that doubles from `interval` up to `maximumBackoff`; `handling`
    /// says which failures stop the run and which need a person.
    public func run(
        from start: Checkpoint?,
        handling: @Sendable (any Error) -> PollFailureHandling
    ) async throws -> Checkpoint? {
        var checkpoint = start
        while !stop.isStopRequested {
            let began = ContinuousClock.now
            let (reached, outcome) = await poll(from: checkpoint)
            checkpoint = reached
            var wait = interval
            switch outcome {
            case .success:
                health.recordSuccess()
                PipelineMetrics.poll(succeeded: true)
            case .failure(let error):
                let action = handling(error)
                if action == .stop { throw error }
                PipelineMetrics.poll(succeeded: false)
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
        return checkpoint
    }

    /// The wait before the next poll after `failures` failed polls in a row.
    func backoff(afterFailures failures: Int) -> Duration {
        min(interval * (1 << min(failures - 1, 16)), maximumBackoff)
    }

    /// One poll; returns the checkpoint it reached (saved), also when the poll failed part-way.
    func poll(from checkpoint: Checkpoint?) async -> (Checkpoint?, Result<ExportSummary, any Error>) {
        do {
            return try await pollOnce(from: checkpoint)
        } catch {
            return (checkpoint, .failure(error))
        }
    }

    private func pollOnce(from checkpoint: Checkpoint?) async throws -> (Checkpoint?, Result<ExportSummary, any Error>) {
        let state = Mutex(CheckpointState(resumingFrom: checkpoint))
        let since = checkpoint?.updatedAt ?? initialSince
        let source = VersionFilteringSource(base: try parts.makeSource(since), covered: CheckpointState(resumingFrom: checkpoint))
        var configuration = pipelineConfiguration
        configuration.stop = stop
        configuration.onFetched = { threat in
            state.withLock { $0.recordFetched(sequence: threat.sequence, id: threat.id, updatedAt: threat.updatedAt) }
        }
        configuration.onWatermarkAdvanced = { watermark in
            _ = state.withLock { $0.advance(toWatermark: watermark) }
        }
        let pipeline = ExportPipeline(source: source, encoder: parts.encoder, sinks: parts.makeSinks(), configuration: configuration)
        // Saves the checkpoint as it moves during a long poll, at most once a second.
        let saver = Task {
            var saved = checkpoint
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                let current = state.withLock { $0.checkpoint }
                Self.recordLag(of: current ?? checkpoint)
                if let current, current != saved {
                    try? save(current)
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
        saver.cancel()
        await saver.value
        let reached = state.withLock { $0.checkpoint }
        Self.recordLag(of: reached ?? checkpoint)
        if let reached, reached != checkpoint { try save(reached) }
        guard case .success(let summary) = outcome else { return (reached, outcome) }
        logger.notice(
            "poll done",
            metadata: [
                "since": "\(since)", "delivered": "\(summary.write.records)",
                "checkpoint": "\(reached?.updatedAt ?? "none")",
            ]
        )
        return (reached, outcome)
    }

    /// Sets the checkpoint-lag gauge: how far behind now the delivered versions are.
    static func recordLag(of checkpoint: Checkpoint?) {
        guard let checkpoint, let instant = RFC3339Timestamp(checkpoint.updatedAt) else { return }
        PipelineMetrics.checkpointLag.record(Double(RFC3339Timestamp.now.microseconds - instant.microseconds) / 1e6)
    }

    private func waitForNextPoll(after began: ContinuousClock.Instant, wait: Duration) async {
        let deadline = began + wait
        while !stop.isStopRequested, ContinuousClock.now < deadline {
            try? await Task.sleep(for: min(.milliseconds(100), deadline - ContinuousClock.now))
        }
    }
}
