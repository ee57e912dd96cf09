import Formats
import Logging
import Observability
import Persistence
import Pipeline
import RawJSON
import SentinelOne
import Sinks

/// The composition root: turns a configuration into a console session, a source, an encoder, sinks and a
/// checkpoint store, runs them, and releases every one of them on every way out. The command line only parses and
/// calls it; tests call it in process.
public enum ThreatpipeRuntime {
    /// One pass over the console's threats; returns the closing line. Throws ``ExportInterrupted`` when `stop` ended
    /// the listing early (what was delivered is intact).
    public static func export(
        _ configuration: ExportConfiguration,
        logger: Logger,
        readiness: Readiness = Readiness(),
        stop: StopSignal = StopSignal()
    ) async throws -> String {
        let filters = try configuration.listFilters()
        let session = try ConsoleSession(configuration: configuration.console, logger: logger)
        let deadLetters: DeadLetterFile?
        do {
            deadLetters = try configuration.sinks.makeDeadLetterFile(logger: logger)
        } catch {
            await session.shutdown()
            throw error
        }
        defer { deadLetters?.close() }
        let sinks = configuration.sinks.makeSinks(logger: logger, deadLetters: deadLetters)
        let started = ContinuousClock.now
        let result = await Result {
            try await exportPass(configuration, filters: filters, session: session, sinks: sinks, logger: logger, readiness: readiness, stop: stop)
        }
        await session.shutdown()
        let summary = try result.get()
        let report = ExportReport(
            summary: summary, requests: session.statistics.snapshot, sinks: sinks.map(\.name),
            elapsed: ContinuousClock.now - started, adaptiveRate: session.adaptiveRate
        ).line
        guard !summary.fetch.stoppedEarly else {
            // What was delivered is said, and the exit status says it is not everything.
            printError(report)
            throw ExportInterrupted(delivered: summary.write.records)
        }
        return report
    }

    private static func exportPass(
        _ configuration: ExportConfiguration, filters: [QueryFilter], session: ConsoleSession, sinks: [any RecordSink],
        logger: Logger, readiness: Readiness, stop: StopSignal
    ) async throws -> ExportSummary {
        let source = try configuration.console.makeSource(filters: filters, session: session, stop: stop, logger: logger)
        var pipeline = ExportPipeline<SentinelOneThreatSource>.Configuration(concurrency: configuration.console.concurrency)
        pipeline.failOnEnrichmentError = configuration.failOnEnrichmentError
        pipeline.stop = stop
        let delivery = DeliverySession(sinks: { sinks }, checkpoints: nil, lifetime: .onePass, logger: logger)
        let progress = configuration.showsProgress ? ProgressLine(deliveredSoFar: { Int(delivery.delivered) }) : nil
        if let progress {
            let client = session.client(token: try configuration.console.token(), logger: logger)
            progress.setTotal(try? await client.countThreats(ThreatListQuery(filters: filters)))
        }
        let drawing = progress.map { progress in Task { await progress.draw() } }
        defer { drawing?.cancel() }
        logger.info("export starting", metadata: ["console": "\(session.console)", "sinks": "\(sinks.map(\.name))"])
        readiness.markReady()
        _ = try await delivery.prepare()
        let encoder = configuration.sinks.format.encoder(consoleURL: session.console.base)
        let stages = pipeline
        let outcome = await delivery.deliver { pass in
            try await ExportPipeline(source: source, encoder: encoder, sinks: pass.sinks, configuration: stages).run(through: pass)
        }
        await delivery.close()
        drawing?.cancel()
        await drawing?.value
        return try outcome.get()
    }

    /// Follows the console until `stop` is raised or a failure `run` cannot retry; returns the last checkpoint.
    public static func run(
        _ configuration: RunConfiguration,
        logger: Logger,
        health: PollHealth = PollHealth(),
        stop: StopSignal = StopSignal()
    ) async throws -> Checkpoint? {
        try configuration.check()
        let console = configuration.console
        let instanceID = configuration.resolvedInstanceID
        let store = makeStore(configuration, instanceID: instanceID)
        if case .kafka = configuration.checkpointStore {
            logger.notice("instance", metadata: ["instance_id": "\(instanceID)", "checkpoint": "\(store.store.location)", "delivery": "\(configuration.delivery.rawValue)"])
        }
        let result = await Result { () async throws -> Checkpoint? in
            // A missing token ends the run before anything is requested; so does a checkpoint of other filters or a
            // corrupt one (the continuous export loads it before its first poll).
            _ = try console.token()
            // One process per state file: a second run on the same --state stops here, naming the holder.
            let lock: StateFileLock? = if case .file = configuration.checkpointStore {
                try StateFileLock(statePath: configuration.statePath)
            } else {
                nil
            }
            defer { withExtendedLifetime(lock) {} }
            // The store's topics exist and can work before anything reads them (created when missing).
            if case .kafka = configuration.checkpointStore {
                guard try await prepareTopics(configuration, shards: 1, logger: logger, stop: stop) != nil else { return nil }
            }
            let session = try ConsoleSession(configuration: console, logger: logger)
            let result = await Result {
                try await follow(
                    configuration, session: session, store: store, transactionalID: "threatpipe-\(instanceID)",
                    logger: logger, health: health, stop: stop
                )
            }
            await session.shutdown()
            return try result.get()
        }
        await store.store.close()
        return try result.get()
    }

    /// Follows one console with one set of filters (the whole run, or one shard of a group) through a session and
    /// a store the caller made and releases; returns the last checkpoint.
    static func follow(
        _ configuration: RunConfiguration, session: ConsoleSession, store: RunCheckpointStore, transactionalID: String,
        logger: Logger, health: PollHealth, stop: StopSignal, metricDimensions: [(String, String)] = [],
        sharedKafka: SharedKafkaSinkProducer? = nil, sharedState: (SharedThreatState, generation: UInt64)? = nil
    ) async throws -> Checkpoint? {
        let console = configuration.console
        let userFilters = console.filters
        let deadLetters = try configuration.sinks.makeDeadLetterFile(logger: logger)
        defer { deadLetters?.close() }
        let plan = try DeliveryPlan(
            configuration, store: store, transactionalID: transactionalID, deadLetters: deadLetters,
            sharedKafka: sharedKafka, sharedState: sharedState, logger: logger, metricDimensions: metricDimensions
        )
        let parts = ContinuousExport<SentinelOneThreatSource>.Parts(
            makeSource: { since in
                try console.makeSource(filters: userFilters + pollFilters(since: since), session: session, stop: stop, logger: logger)
            },
            encoder: configuration.sinks.format.encoder(consoleURL: console.console.base),
            makeLookupSource: { ids in
                try console.makeSource(
                    filters: userFilters + [QueryFilter(name: "ids", value: ids.joined(separator: ","))],
                    session: session, stop: stop, logger: logger
                )
            }
        )
        let policy: EnrichmentErrorPolicy = configuration.failOnEnrichmentError ? .fail : .emit
        let outcome = await Result { try await ContinuousExport(
            parts: parts,
            pipelineConfiguration: policy.configure(.init(concurrency: console.concurrency)),
            interval: configuration.interval,
            initialSince: configuration.initialSince.description,
            session: plan.session,
            stop: stop,
            health: health,
            maximumBackoff: configuration.maximumBackoff,
            overlap: configuration.overlap,
            logger: logger,
            metricDimensions: metricDimensions,
            reenrichmentAttempts: configuration.failOnEnrichmentError ? 0 : configuration.reenrichmentAttempts
        ).run(handling: runFailureHandling) }
        await plan.close()
        return try outcome.get()
    }

    /// The checkpoint store the configuration names.
    static func makeStore(_ configuration: RunConfiguration, instanceID: String) -> RunCheckpointStore {
        let console = configuration.console
        let filters = console.filters.map { "\($0.name)=\($0.value)" }
        switch configuration.checkpointStore {
        case .file:
            return .file(CheckpointFileStore(
                path: configuration.statePath, consoleURL: console.console.base, filters: filters,
                startAfresh: configuration.resetState
            ))
        case .kafka(let settings):
            return .kafka(KafkaCheckpointStore(
                settings: settings.storeSettings, checkpointID: instanceID, consoleURL: console.console.base, filters: filters,
                startAfresh: configuration.resetState, writes: configuration.storeWrites
            ))
        }
    }

    /// The filters each poll adds: versions updated since the checkpoint, oldest first.
    static func pollFilters(since: String) -> [QueryFilter] {
        [
            QueryFilter(name: "updatedAt__gte", value: since),
            QueryFilter(name: "sortBy", value: "updatedAt"),
            QueryFilter(name: "sortOrder", value: "asc"),
        ]
    }

    /// Errors another poll cannot fix (configuration, unusable state, a record a sink rejects for good with no
    /// dead-letter file) stop the run; a rejected token or permission is retried with backoff, loudly, since only a
    /// person can fix it; the rest (the console or a sink unavailable, a broken answer) is retried.
    @Sendable public static func runFailureHandling(_ error: any Error) -> PollFailureHandling {
        guard let kind = FailureKind.of(error) else { return .retry }
        return runHandling(for: kind)
    }

    /// `run`'s table: stop or retry, per kind of failure (a `switch`, so a new kind cannot go without one).
    public static func runHandling(for kind: FailureKind) -> PollFailureHandling {
        switch kind {
        case .configuration, .storage, .rejectedRecord, .interrupted, .fenced: .stop
        case .authorization: .retryAndAlert
        case .unavailable, .protocolViolation, .sink: .retry
        }
    }

    /// What a group does when one shard's run ends in a failure: only fencing stops the process (another process
    /// owns a shard this one still runs); anything else is that shard's, retried on its own after a backoff while
    /// the others go on.
    static func shardHandling(for kind: FailureKind?) -> ShardFailureHandling {
        switch kind {
        case .fenced?: .stopProcess
        case .configuration?, .authorization?, .unavailable?, .protocolViolation?, .sink?, .rejectedRecord?, .storage?,
            .interrupted?, nil:
            .retryShard
        }
    }
}

/// A group's decision on a failed shard.
enum ShardFailureHandling: Sendable, Equatable {
    case stopProcess
    case retryShard
}

extension Result where Failure == any Error {
    /// The outcome of an async body, so clean-up can run before it is rethrown.
    init(_ body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
