import NIOConcurrencyHelpers
import Logging
import RawJSON
import CoreMetrics

/// `run` mode: a poll every `interval` for the versions updated since the checkpoint, each delivered once, with the
/// checkpoint moved only past versions every sink acknowledged.
///
/// What happens to a record once written — acknowledged, folded into the checkpoint, stored — is its
/// ``DeliverySession``'s: the sinks live as long as the run, flushed at the end of every poll (so every
/// acknowledgement of a poll is in before the next begins), replaced after a failed poll they cannot flush, and
/// closed on every way out — a stop, a failure that ends the run, or cancellation.
public struct ContinuousExport<Source: ThreatSource>: Sendable {
    /// The parts: a source per poll, and how records are encoded.
    public struct Parts: Sendable {
        /// The source listing `updatedAt__gte=<since>` sorted by `updatedAt` ascending.
        public var makeSource: @Sendable (_ since: String) throws -> Source
        public var encoder: any RecordEncoder
        /// A source listing exactly these threats (by `ids`): how versions to enrich again are looked up.
        public var makeLookupSource: (@Sendable (_ ids: [String]) throws -> Source)?

        public init(
            makeSource: @escaping @Sendable (_ since: String) throws -> Source,
            encoder: any RecordEncoder,
            makeLookupSource: (@Sendable (_ ids: [String]) throws -> Source)? = nil
        ) {
            self.makeLookupSource = makeLookupSource
            self.makeSource = makeSource
            self.encoder = encoder
        }
    }

    let parts: Parts
    let pipelineConfiguration: ExportPipeline<ReenrichingSource<VersionFilteringSource<Source>>>.Configuration
    let interval: Duration
    /// Where the first poll starts when there is no checkpoint.
    let initialSince: String
    /// The sinks and the checkpoint (its policy decides how it is loaded and stored).
    let session: DeliverySession
    let stop: StopSignal
    /// Updated after every poll.
    public let health: PollHealth
    /// The longest wait between polls after failures (the wait doubles from `interval` up to it).
    let maximumBackoff: Duration
    /// How far before the checkpoint each poll starts, for versions that become visible late.
    let overlap: Duration
    let logger: Logger
    /// Labels added to the poll metrics (`shard` in a group).
    let metricDimensions: [(String, String)]
    /// How many times a version delivered with a part that failed is enriched again (0: never).
    let reenrichmentAttempts: Int

    public init(
        parts: Parts,
        pipelineConfiguration: ExportPipeline<ReenrichingSource<VersionFilteringSource<Source>>>.Configuration,
        interval: Duration,
        initialSince: String,
        session: DeliverySession,
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
        self.session = session
        self.stop = stop
        self.health = health
        self.maximumBackoff = max(maximumBackoff, interval)
        self.overlap = overlap
        self.logger = logger
    }

    /// Polls until a stop is requested, each poll from the session's checkpoint; returns the last checkpoint. A
    /// poll that fails is logged and tried again from the checkpoint it reached, after a backoff that doubles from
    /// `interval` up to `maximumBackoff`; `handling` says which failures stop the run and which need a person.
    public func run(handling: @Sendable (any Error) -> PollFailureHandling) async throws -> Checkpoint? {
        PipelineMetrics.consecutiveFailures(metricDimensions).record(health.state.consecutiveFailures)
        while !stop.isStopRequested, !Task.isCancelled {
            let began = ContinuousClock.now
            let outcome = await poll()
            var wait = interval
            switch outcome {
            case .success(let summary):
                health.recordSuccess()
                PipelineMetrics.poll(succeeded: true, metricDimensions)
                PipelineMetrics.consecutiveFailures(metricDimensions).record(0)
                // A poll that brought a backlog (a burst of new threats) may have left more behind it: the next one
                // starts at once rather than an interval after this one began.
                if summary.write.records >= Self.backlogRecords { wait = .zero }
            case .failure(let error):
                let action = handling(error)
                if action == .stop {
                    await session.close()
                    throw error
                }
                PipelineMetrics.poll(succeeded: false, metricDimensions)
                let failures = health.recordFailure(error)
                PipelineMetrics.consecutiveFailures(metricDimensions).record(failures)
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
        await session.close()
        return await session.checkpoint
    }

    /// A poll that delivered at least this many records is followed by the next at once.
    public static var backlogRecords: Int { 100 }

    /// The wait before the next poll after `failures` failed polls in a row.
    func backoff(afterFailures failures: Int) -> Duration {
        min(interval * (1 << min(failures - 1, 16)), maximumBackoff)
    }

    /// One poll: the session's sinks opened (or kept), versions listed from its checkpoint, delivered through it.
    func poll() async -> Result<ExportSummary, any Error> {
        var covered: CheckpointProgress
        do {
            covered = CheckpointProgress(resumingFrom: try await session.prepare(), overlap: overlap, reenrichmentDelay: interval)
        } catch {
            return .failure(error)
        }
        let reenriched = await reenrich(&covered)
        let since = covered.pollStart ?? initialSince
        let source: ReenrichingSource<VersionFilteringSource<Source>>
        do {
            source = ReenrichingSource(base: VersionFilteringSource(base: try parts.makeSource(since), covered: covered), reenriched: reenriched)
        } catch {
            return .failure(error)
        }
        var pipeline = pipelineConfiguration
        pipeline.stop = stop
        let configuration = pipeline
        let encoder = parts.encoder
        let notesIncomplete = reenrichmentAttempts > 0
        let outcome = await session.deliver(from: covered) { pass in
            let noting: any RecordEncoder = notesIncomplete
                ? IncompleteNotingEncoder(base: encoder) { pass.markIncomplete(sequence: $0) }
                : encoder
            return try await ExportPipeline(source: source, encoder: noting, sinks: pass.sinks, configuration: configuration)
                .run(through: pass)
        }
        if case .success(let summary) = outcome {
            let reached = await session.checkpoint
            logger.notice(
                "poll done",
                metadata: [
                    "since": "\(since)", "delivered": "\(summary.write.records)",
                    "checkpoint": "\(reached?.updatedAt ?? "none")",
                ].merging(summary.enrichmentSkipped > 0 ? [
                    // Each costs at least its analysis and one events page.
                    "enrichment_skipped": "\(summary.enrichmentSkipped)", "requests_saved": "\(2 * summary.enrichmentSkipped)",
                ] : [:]) { $1 }
            )
            if summary.enrichmentSkipped > 0 { PipelineMetrics.enrichmentSkipped.increment(by: summary.enrichmentSkipped) }
        }
        return outcome
    }

    private func waitForNextPoll(after began: ContinuousClock.Instant, wait: Duration) async {
        await stop.wait(until: began + wait)
    }
}
