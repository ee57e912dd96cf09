import Testing

@testable import Pipeline

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
}
