import Testing

@testable import Pipeline

/// A record `--emit changes` does not send reaches only a sink that takes unsent records (the transactional one,
/// which commits its state); for every other sink the writer acknowledges it, so no sink can write it by mistake.
@Suite struct UnsentRecordTests {
    /// A sink that takes unsent records, and notes what it was handed.
    actor TakingSink: RecordSink {
        nonisolated let name = "taking"
        nonisolated var takesUnsentRecords: Bool { true }
        private(set) var payloads: [EncodedRecord.Payload] = []
        private var acknowledger: SinkAcknowledger?
        func open(acknowledger: SinkAcknowledger) async throws { self.acknowledger = acknowledger }
        func write(_ record: EncodedRecord) async throws {
            payloads.append(record.payload)
            acknowledger?.acknowledge(record.sequence)
        }
        func flush() async throws {}
        func close() async throws {}
    }

    @Test(arguments: [1, 2]) func anUnsentRecordReachesOnlyASinkThatTakesIt(plainSinks: Int) async throws {
        let ledger = ChangeLedger(store: ChangeLedgerTests.MemoryStateStore(), tracked: .defaults, emit: .changes, retention: .seconds(86_400))
        try await ledger.open()
        let plain = (0..<plainSinks).map { MemorySink(name: "plain-\($0)") }
        let taking = TakingSink()
        let sinks: [any RecordSink] = plain + [taking]
        let tracker = AcknowledgementTracker(sinkCount: sinks.count)
        for (index, sink) in sinks.enumerated() { try await sink.open(acknowledger: tracker.acknowledger(forSink: index)) }
        // A new threat, then a version that changes nothing tracked.
        var threats: [EnrichedThreat] = []
        for updatedAt in ["2026-07-01T00:00:00Z", "2026-07-02T00:00:00Z"] {
            var threat = ChangeDetectorTests.threat(updatedAt)
            threat.sequence = tracker.register()
            let (change, entry) = try await ledger.detect(threat)
            threat.decided = DecidedChange(change: change, entry: entry)
            threats.append(EnrichedThreat(threat: threat, analysis: .notRequested, events: .notRequested))
        }
        let input = AsyncStream<EnrichedThreat> { continuation in
            threats.forEach { continuation.yield($0) }
            continuation.finish()
        }
        let summary = try await RecordWriter(encoder: IDEncoder(), sinks: sinks, changes: ledger, tracker: tracker).run(from: input)
        #expect(summary.records == 2 && summary.suppressed == 1)
        for sink in plain {
            #expect(await sink.records.map(\.sequence) == [0], "the unsent version never reached \(sink.name)")
        }
        let payloads = await taking.payloads
        #expect(payloads.count == 2 && payloads[1] == .unsent)
        #expect(tracker.snapshot.isComplete, "acknowledged by every sink, the plain ones by the writer")
    }
}
