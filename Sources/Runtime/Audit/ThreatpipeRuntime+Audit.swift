import NIOConcurrencyHelpers
import Audit
import Blocking
import Kafka
import Logging
import Pipeline
import RawJSON
import SentinelOne

extension ThreatpipeRuntime {
    /// Lists the console's threats in the window (list requests only, 1000 a page), reads every delivered record,
    /// looks up by id the delivered threats the console no longer lists, and returns what is missing, stale,
    /// incomplete or deleted upstream.
    ///
    /// A stop (SIGTERM, SIGINT) ends it at once with ``AuditStopped`` (exit 75), whatever it waits for: a read of a
    /// FIFO no one writes or a device that never ends runs on a thread of its own and is left behind.
    public static func audit(_ configuration: AuditConfiguration, logger: Logger, stop: StopSignal) async throws -> AuditReport {
        let finished = NIOLockedValueBox<CheckedContinuation<AuditReport, any Error>?>(nil)
        @Sendable func finish(_ result: Result<AuditReport, any Error>) {
            finished.withLockedValue { continuation in
                continuation?.resume(with: result)
                continuation = nil
            }
        }
        return try await withCheckedThrowingContinuation { continuation in
            finished.withLockedValue { $0 = continuation }
            let watcher = Task {
                await stop.wait()
                guard stop.isStopRequested else { return }
                finish(.failure(AuditStopped()))
            }
            Task {
                finish(await Result { try await audit(configuration, logger: logger, shouldStop: { stop.isStopRequested }) })
                watcher.cancel()
            }
        }
    }

    static func audit(_ configuration: AuditConfiguration, logger: Logger, shouldStop: @escaping @Sendable () -> Bool) async throws -> AuditReport {
        let console = configuration.console
        _ = try console.token()
        let session = try ConsoleSession(configuration: console, logger: logger)
        let result = await Result {
            var ledger = AuditLedger(window: configuration.window)
            try await listWindow(configuration, console: console, session: session, into: &ledger, logger: logger)
            try await readDelivered(configuration.delivered, timeout: configuration.kafkaTimeout, shouldStop: shouldStop, into: &ledger)
            let stillListed = try await listedIDs(ledger.unlistedIDs, console: console, session: session, logger: logger)
            return ledger.report(stillListed: stillListed)
        }
        await session.shutdown()
        return try result.get()
    }

    /// Every threat of the window, as the console lists it now (cursor cycles and runs of empty pages are errors:
    /// a hostile console cannot keep the audit going for ever).
    static func listWindow(
        _ configuration: AuditConfiguration, console: ConsoleConfiguration, session: ConsoleSession, into ledger: inout AuditLedger, logger: Logger
    ) async throws {
        let source = try console.makeSource(filters: console.filters + configuration.window.filters, session: session, logger: logger)
        let progress = configuration.showsProgress ? ProgressLine() : nil
        let drawing = progress.map { progress in Task { await progress.draw() } }
        defer { drawing?.cancel() }
        var listedSoFar = 0
        try await source.forEachPage { page, first in
            if first { progress?.setTotal(page.totalItems) }
            for threat in page.threats {
                guard let updated = threat.updatedAt.flatMap({ RFC3339Timestamp($0) }) else { continue }
                let site = configuration.bySite ? siteID(of: threat) : nil
                ledger.list(id: threat.id, updatedAt: updated, site: site)
            }
            listedSoFar += page.threats.count
            progress?.setDelivered(listedSoFar)
        }
        drawing?.cancel()
        await drawing?.value
    }

    static func siteID(of threat: ListedThreat) -> String? {
        (try? JSONValue.parse(threat.json))?["agentRealtimeInfo"]?["siteId"]?.stringValue
    }

    /// Reads every delivered record into the ledger; a line that is not a threatpipe record is an error.
    static func readDelivered(
        _ delivered: AuditConfiguration.Delivered, timeout: Duration, shouldStop: @escaping @Sendable () -> Bool, into ledger: inout AuditLedger
    ) async throws {
        let box = LedgerBox(ledger)
        switch delivered {
        case .ndjson(let paths):
            try await performBlockingCall {
                var line = 0
                try RecordLines.forEach(inFiles: paths, shouldStop: shouldStop) { bytes in
                    line += 1
                    do {
                        box.ledger.deliver(try DeliveredVersion(record: bytes))
                    } catch {
                        throw AuditError(description: "record \(line) of \(paths.joined(separator: ", ")): \(error)")
                    }
                }
            }
        case .kafka(let properties, let topic, let readCommitted):
            try await performBlockingCall {
                do {
                    _ = try KafkaTopicReader.readToEnd(
                        topic: topic, properties: properties, readCommitted: readCommitted, timeout: timeout
                    ) { record in
                        do {
                            box.ledger.deliver(try DeliveredVersion(record: record.value ?? []))
                        } catch {
                            throw AuditError(description: "topic \(topic) partition \(record.partition) offset \(record.offset): \(error)")
                        }
                    }
                } catch let error as KafkaError {
                    throw AuditError(description: "cannot read topic \(topic): \(error)", kind: error.code == .unknownTopicOrPartition ? .configuration : .unavailable)
                }
            }
        }
        ledger = box.ledger
    }

    /// Of `ids`, those the console still lists (with the user's filters, any time): looked up 100 at a time.
    static func listedIDs(_ ids: [String], console: ConsoleConfiguration, session: ConsoleSession, logger: Logger) async throws -> Set<String> {
        var found = Set<String>()
        for start in stride(from: 0, to: ids.count, by: 100) {
            let batch = ids[start..<min(start + 100, ids.count)]
            let source = try console.makeSource(
                filters: console.filters + [QueryFilter(name: "ids", value: batch.joined(separator: ","))], session: session, logger: logger
            )
            try await source.forEachPage { page, _ in found.formUnion(page.threats.map(\.id)) }
        }
        return found
    }
}

/// The ledger, filled on a blocking thread (one at a time) and handed back.
private final class LedgerBox: @unchecked Sendable {
    var ledger: AuditLedger
    init(_ ledger: AuditLedger) { self.ledger = ledger }
}

extension ThreatpipeRuntime {
    /// `audit --repair`: exports exactly these threats (by `ids`, 100 a request batch) through the export's sinks,
    /// touching no `run` checkpoint; returns one line per batch.
    public static func repair(
        _ ids: [String], configuration: ExportConfiguration, logger: Logger, stop: StopSignal = StopSignal()
    ) async throws -> [String] {
        var lines: [String] = []
        for start in stride(from: 0, to: ids.count, by: 100) where !stop.isStopRequested {
            var batch = configuration
            batch.console.filters = [QueryFilter(name: "ids", value: ids[start..<min(start + 100, ids.count)].joined(separator: ","))]
            batch.since = nil
            batch.until = nil
            batch.showsProgress = false
            lines.append(try await export(batch, logger: logger, stop: stop))
        }
        return lines
    }
}

/// `audit` stopped by a signal before it finished: it says nothing about completeness (exit 75).
public struct AuditStopped: ClassifiedError, CustomStringConvertible {
    public var kind: FailureKind { .interrupted }
    public var description: String { "audit stopped before it finished: no verdict" }
}
