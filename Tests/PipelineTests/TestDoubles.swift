import Pipeline
import Synchronization

/// A source of `count` synthetic threats served from memory, `pageSize` per page, counting what it was asked.
final class MemorySource: ThreatSource {
    let count: Int
    let pageSize: Int
    let notFound: Set<Int>
    /// Threats whose analysis a stop ended before it was requested.
    let stopped: Set<Int>
    let enrichmentGate: ArrivalBarrier?
    let fetchedThreats = Atomic<Int>(0)
    let enrichmentsRunning = Atomic<Int>(0)
    let maximumEnrichmentsRunning = Atomic<Int>(0)

    init(count: Int, pageSize: Int = 100, notFound: Set<Int> = [], stopped: Set<Int> = [], enrichmentGate: ArrivalBarrier? = nil) {
        self.count = count
        self.pageSize = pageSize
        self.notFound = notFound
        self.stopped = stopped
        self.enrichmentGate = enrichmentGate
    }

    func fetchPage(cursor: String?) async throws -> ThreatPage {
        let start = cursor.flatMap(Int.init) ?? 0
        let end = min(start + pageSize, count)
        let threats = (start..<end).map { index in
            ListedThreat(id: "t\(index)", updatedAt: nil, json: Array("{\"id\":\"t\(index)\"}".utf8))
        }
        fetchedThreats.add(threats.count, ordering: .relaxed)
        return ThreatPage(threats: threats, nextCursor: end < count ? String(end) : nil)
    }

    func fetchAnalysis(of threat: ListedThreat) async -> EnrichmentOutcome<[UInt8]> {
        let running = enrichmentsRunning.add(1, ordering: .relaxed).newValue
        maximumEnrichmentsRunning.max(running, ordering: .relaxed)
        defer { enrichmentsRunning.subtract(1, ordering: .relaxed) }
        await enrichmentGate?.arrive()
        if notFound.contains(Int(threat.id.dropFirst())!) {
            return .notFound(EnrichmentFailure(httpStatus: 404, message: "gone"))
        }
        if stopped.contains(Int(threat.id.dropFirst())!) { return .stopped }
        return .fetched(Array("{\"a\":1}".utf8))
    }

    func fetchEvents(of threat: ListedThreat) async -> EnrichmentOutcome<ThreatEvents> {
        .fetched(ThreatEvents(joinedJSON: Array("{\"e\":1}".utf8), count: 1))
    }
}

/// Suspends arrivals until `count` of them are waiting, then lets all through (and every later one at once).
actor ArrivalBarrier {
    let count: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var open = false

    init(count: Int) { self.count = count }

    func arrive() async {
        if open { return }
        await withCheckedContinuation { continuation in
            waiting.append(continuation)
            if waiting.count == count {
                open = true
                for waiter in waiting { waiter.resume() }
                waiting.removeAll()
            }
        }
    }
}

/// Joins the threat id into the record bytes.
struct IDEncoder: RecordEncoder {
    func encode(_ threat: EnrichedThreat) -> EncodedRecord {
        EncodedRecord(sequence: threat.threat.sequence, key: threat.threat.id, bytes: Array(threat.threat.id.utf8))
    }
}

/// A sink that keeps records in memory, yields `slowness` times per record to play a slow destination, and
/// notes how far the fetcher had run ahead of it.
actor MemorySink: RecordSink {
    nonisolated let name: String
    let slowness: Int
    let source: MemorySource?
    let failAfter: Int?
    private(set) var records: [EncodedRecord] = []
    private(set) var maximumFetchedAhead = 0
    private(set) var closed = false
    private var acknowledger: SinkAcknowledger?

    init(name: String = "memory", slowness: Int = 0, source: MemorySource? = nil, failAfter: Int? = nil) {
        self.name = name
        self.slowness = slowness
        self.source = source
        self.failAfter = failAfter
    }

    func open(acknowledger: SinkAcknowledger) async throws { self.acknowledger = acknowledger }

    func write(_ record: EncodedRecord) async throws {
        if let failAfter, records.count >= failAfter { throw TestSinkFailure() }
        for _ in 0..<slowness { await Task.yield() }
        records.append(record)
        if let source {
            maximumFetchedAhead = max(maximumFetchedAhead, source.fetchedThreats.load(ordering: .relaxed) - records.count)
        }
        acknowledger?.acknowledge(record.sequence)
    }

    func flush() async throws {}

    func close() async throws { closed = true }
}

struct TestSinkFailure: Error {}

/// A sink that takes records only in sequence, as the transactional Kafka sink does: a record written ahead of an
/// earlier one waits for it, and one still waiting when the input ends is never written nor acknowledged.
actor InSequenceSink: RecordSink {
    nonisolated let name = "in-sequence"
    private(set) var records: [EncodedRecord] = []
    private var ahead: [UInt64: EncodedRecord] = [:]
    private var next: UInt64 = 0
    private var acknowledger: SinkAcknowledger?

    func open(acknowledger: SinkAcknowledger) async throws { self.acknowledger = acknowledger }

    func write(_ record: EncodedRecord) async throws {
        ahead[record.sequence] = record
        while let due = ahead.removeValue(forKey: next) {
            records.append(due)
            acknowledger?.acknowledge(due.sequence)
            next += 1
        }
    }

    /// What waited behind a record that never came.
    var heldBack: Int { ahead.count }

    func flush() async throws { ahead.removeAll() }

    func close() async throws { ahead.removeAll() }
}

/// The highest watermark a pipeline reported.
final class WatermarkRecorder: Sendable {
    private let value = Atomic<UInt64>(0)
    func record(_ watermark: UInt64) { value.max(watermark, ordering: .relaxed) }
    var highest: UInt64 { value.load(ordering: .relaxed) }
}
