import Testing

@testable import Pipeline
import Synchronization
import Logging

@Suite struct ExportPipelineTests {
    @Test func everyThreatReachesEverySinkExactlyOnce() async throws {
        let source = MemorySource(count: 1234, pageSize: 100)
        let first = MemorySink(name: "first")
        let second = MemorySink(name: "second")
        let pipeline = ExportPipeline(
            source: source, encoder: IDEncoder(), sinks: [first, second],
            configuration: .init(concurrency: 4, fetchedCapacity: 16, enrichedCapacity: 8)
        )
        let summary = try await pipeline.run()
        #expect(summary.fetch.threats == 1234)
        #expect(summary.fetch.pages == 13)
        #expect(summary.write.records == 1234)
        #expect(summary.acknowledgedPerSink == [1234, 1234])
        for sink in [first, second] {
            let keys = await sink.records.map(\.key)
            #expect(keys.count == 1234)
            #expect(Set(keys) == Set((0..<1234).map { "t\($0)" }))
            #expect(await sink.closed)
        }
    }

    @Test func enrichmentFailuresAreEmittedNotDropped() async throws {
        let source = MemorySource(count: 50, notFound: [3, 17, 49])
        let sink = MemorySink()
        let summary = try await ExportPipeline(
            source: source, encoder: IDEncoder(), sinks: [sink], configuration: .init(concurrency: 3)
        ).run()
        #expect(summary.write.records == 50)
        #expect(summary.write.analysisNotFound == 3)
        #expect(await sink.records.count == 50)
    }

    /// A threat whose enrichment a stop cut short (its request waited for a rate-limit token) is withdrawn: not
    /// delivered, not acknowledged, the watermark stays before it, and the pass ends as stopped early — not as a
    /// failure, and not with a record that says only "stopping".
    @Test func aThreatAStopCutShortIsWithdrawnAndHoldsTheWatermark() async throws {
        let source = MemorySource(count: 40, stopped: [25, 31])
        let sink = MemorySink()
        let watermark = WatermarkRecorder()
        let configuration = ExportPipeline<MemorySource>.Configuration(concurrency: 4)
        let session = DeliverySession(sinks: { [sink] }, checkpoints: nil, lifetime: .onePass, logger: Logger(label: "test"))
        _ = try await session.prepare()
        let summary = try await session.deliver { pass in
            let summary = try await ExportPipeline(source: source, encoder: IDEncoder(), sinks: pass.sinks, configuration: configuration).run(through: pass)
            watermark.record(pass.tracker.snapshot.lowWatermark)
            return summary
        }.get()
        await session.close()
        #expect(summary.withdrawn == 2)
        #expect(summary.fetch.stoppedEarly)
        #expect(summary.write.records == 38)
        #expect(Set(await sink.records.map(\.key)).isDisjoint(with: ["t25", "t31"]))
        #expect(watermark.highest == 25, "every record below the first withdrawn one, and none after it")
    }

    /// A sink that takes records in sequence holds back those enriched after a withdrawn one: they stay unacknowledged
    /// with it, and the pass still ends as stopped — not as a sink that lost records (a group's shard logged "poll
    /// failed" at every stop that came in its pass, under exactly once).
    @Test func recordsASinkHoldsBehindAWithdrawnOneEndThePassAsStopped() async throws {
        let source = MemorySource(count: 40, stopped: [25])
        let sink = InSequenceSink()
        let session = DeliverySession(sinks: { [sink] }, checkpoints: nil, lifetime: .onePass, logger: Logger(label: "test"))
        _ = try await session.prepare()
        let (watermark, inFlight) = (WatermarkRecorder(), WatermarkRecorder())
        let summary = try await session.deliver { pass in
            let summary = try await ExportPipeline(
                source: source, encoder: IDEncoder(), sinks: pass.sinks, configuration: .init(concurrency: 4)
            ).run(through: pass)
            let snapshot = pass.tracker.snapshot
            watermark.record(snapshot.lowWatermark)
            inFlight.record(UInt64(snapshot.inFlightCount))
            return summary
        }.get()
        await session.close()
        #expect(summary.withdrawn == 1)
        #expect(summary.fetch.stoppedEarly)
        #expect(watermark.highest == 25)
        #expect(inFlight.highest == 15, "the withdrawn record and the 14 after it")
        #expect(await sink.records.map(\.key) == (0..<25).map { "t\($0)" })
    }

    /// A slow sink must hold the fetcher back: how far the fetcher runs ahead is bounded by the channel capacities,
    /// the concurrency and two pages (the one being sent and the one read ahead) — not by the number of threats.
    @Test func aSlowSinkHoldsTheFetcherBack() async throws {
        let source = MemorySource(count: 5000, pageSize: 50)
        let sink = MemorySink(slowness: 20, source: source)
        let configuration = ExportPipeline<MemorySource>.Configuration(
            concurrency: 4, fetchedCapacity: 8, enrichedCapacity: 8
        )
        _ = try await ExportPipeline(source: source, encoder: IDEncoder(), sinks: [sink], configuration: configuration)
            .run()
        let bound = configuration.fetchedCapacity + configuration.enrichedCapacity + configuration.concurrency
            + 2 * source.pageSize + 4
        let ahead = await sink.maximumFetchedAhead
        #expect(ahead <= bound, "the fetcher ran \(ahead) threats ahead of the sink; bound \(bound)")
        #expect(await sink.records.count == 5000)
    }

    /// Proves the concurrency: the first `n` enrichments wait for each other, so the export only finishes if `n`
    /// run at once; and never more than `n` run.
    @Test(.timeLimit(.minutes(1))) func enrichesUpToConcurrencyThreatsAtOnce() async throws {
        let concurrency = 6
        let source = MemorySource(count: 200, enrichmentGate: ArrivalBarrier(count: concurrency))
        _ = try await ExportPipeline(
            source: source, encoder: IDEncoder(), sinks: [MemorySink()],
            configuration: .init(concurrency: concurrency)
        ).run()
        #expect(source.maximumEnrichmentsRunning.load(ordering: .relaxed) == concurrency)
    }

    @Test func aFailingSinkStopsTheExportWithASinkError() async throws {
        let source = MemorySource(count: 500)
        let error = await #expect(throws: PipelineError.self) {
            _ = try await ExportPipeline(
                source: source, encoder: IDEncoder(), sinks: [MemorySink(name: "flaky", failAfter: 10)],
                configuration: .init(concurrency: 2)
            ).run()
        }
        #expect(error?.code == .sinkFailed)
        #expect(error?.message.hasPrefix("flaky:") == true)
    }

    /// Sinks are written concurrently: one that stops on its first record (an fsync that hangs) does not hold up the
    /// other, which goes on taking records (up to its lane and the channels); released, both get everything in order.
    @Test(.timeLimit(.minutes(1))) func aStalledSinkDoesNotHoldUpTheOthers() async throws {
        let source = MemorySource(count: 200, pageSize: 50)
        let gate = GatedSink(name: "stalled")
        let other = MemorySink(name: "other")
        let pipeline = ExportPipeline(
            source: source, encoder: IDEncoder(), sinks: [gate, other],
            configuration: .init(concurrency: 4, fetchedCapacity: 16, enrichedCapacity: 8)
        )
        let run = Task { try await pipeline.run() }
        await gate.waitUntilStalled()
        while await other.records.count < 10 { await Task.yield() }
        #expect(await gate.written == 0, "the stalled sink holds its first record")
        await gate.release()
        let summary = try await run.value
        #expect(summary.acknowledgedPerSink == [200, 200])
        let gateKeys = await gate.keys
        let otherKeys = await other.records.map(\.key)
        #expect(Set(gateKeys).count == 200)
        #expect(otherKeys == gateKeys, "each sink sees the records in the same order")
    }
}

/// A sink whose first write waits until the test releases it.
actor GatedSink: RecordSink {
    nonisolated let name: String
    private var acknowledger: SinkAcknowledger?
    private var released = false
    private var stalled: CheckedContinuation<Void, Never>?
    private var stallWatcher: CheckedContinuation<Void, Never>?
    private(set) var keys: [String] = []
    var written: Int { keys.count }

    init(name: String) { self.name = name }

    func open(acknowledger: SinkAcknowledger) async throws { self.acknowledger = acknowledger }

    func write(_ record: EncodedRecord) async throws {
        if !released {
            await withCheckedContinuation { continuation in
                stalled = continuation
                stallWatcher?.resume()
                stallWatcher = nil
            }
        }
        keys.append(record.key)
        acknowledger?.acknowledge(record.sequence)
    }

    /// Returns once the first write is waiting.
    func waitUntilStalled() async {
        if stalled != nil { return }
        await withCheckedContinuation { stallWatcher = $0 }
    }

    func release() {
        released = true
        stalled?.resume()
        stalled = nil
    }

    func flush() async throws {}
    func close() async throws {}
}

