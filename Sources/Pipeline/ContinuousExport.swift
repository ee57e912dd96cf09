import Logging
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
    let logger: Logger

    public init(
        parts: Parts,
        pipelineConfiguration: ExportPipeline<VersionFilteringSource<Source>>.Configuration,
        interval: Duration,
        initialSince: String,
        save: @escaping @Sendable (Checkpoint) throws -> Void,
        stop: StopSignal,
        logger: Logger
    ) {
        self.parts = parts
        self.pipelineConfiguration = pipelineConfiguration
        self.interval = interval
        self.initialSince = initialSince
        self.save = save
        self.stop = stop
        self.logger = logger
    }

    /// Polls until a stop is requested; returns the last checkpoint. A poll that fails is logged and tried again
    /// at the next interval from the last checkpoint; errors that retrying cannot fix (`isFatal`) end the run.
    public func run(from start: Checkpoint?, isFatal: @Sendable (any Error) -> Bool) async throws -> Checkpoint? {
        var checkpoint = start
        while !stop.isStopRequested {
            let began = ContinuousClock.now
            do {
                checkpoint = try await poll(from: checkpoint)
            } catch {
                if isFatal(error) { throw error }
                logger.error("poll failed; retrying from the checkpoint at the next interval", metadata: ["error": "\(error)"])
            }
            await waitForNextPoll(after: began)
        }
        return checkpoint
    }

    /// One poll; returns the checkpoint it reached (saved).
    func poll(from checkpoint: Checkpoint?) async throws -> Checkpoint? {
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
        if let reached, reached != checkpoint { try save(reached) }
        let summary = try outcome.get()
        logger.notice(
            "poll done",
            metadata: [
                "since": "\(since)", "delivered": "\(summary.write.records)",
                "checkpoint": "\(reached?.updatedAt ?? "none")",
            ]
        )
        return reached
    }

    private func waitForNextPoll(after began: ContinuousClock.Instant) async {
        let deadline = began + interval
        while !stop.isStopRequested, ContinuousClock.now < deadline {
            try? await Task.sleep(for: min(.milliseconds(100), deadline - ContinuousClock.now))
        }
    }
}
