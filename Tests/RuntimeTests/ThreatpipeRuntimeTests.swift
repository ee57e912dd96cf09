import Emulator
import Foundation
import Logging
import Persistence
import Pipeline
import RawJSON
@testable import Runtime
import SentinelOne
import Sinks
import TestSupport
import Testing

/// The composition root in process: `ThreatpipeRuntime.run` and `.export` against an emulator on a real port,
/// records into a real NDJSON file — no child process.
@Suite(.serialized) struct ThreatpipeRuntimeTests {
    let directory: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("runtime-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    var logger: Logger {
        var logger = Logger(label: "test.runtime")
        logger.logLevel = .error
        return logger
    }

    func console(_ emulator: RunningEmulator, filters: [QueryFilter] = []) throws -> ConsoleConfiguration {
        var console = ConsoleConfiguration(console: try ConsoleURL(emulator.url))
        console.environment = ["S1_API_TOKEN": emulator.token]
        console.filters = filters
        console.pageSize = 7
        console.rateLimit = 0
        return console
    }

    func runConfiguration(_ emulator: RunningEmulator, filters: [QueryFilter] = []) throws -> RunConfiguration {
        var configuration = RunConfiguration(
            console: try console(emulator, filters: filters),
            sinks: SinksConfiguration(sinks: [.ndjson(path: "\(directory)/out.ndjson", rotation: FileRotationSettings())]),
            initialSince: RFC3339Timestamp("2020-01-01T00:00:00Z")!
        )
        configuration.interval = .milliseconds(200)
        configuration.statePath = "\(directory)/state.json"
        return configuration
    }

    /// (id, updatedAt) of every line of the output, in order.
    func delivered() throws -> [ServedVersion] {
        let text = try String(contentsOfFile: "\(directory)/out.ndjson", encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let record = try JSONValue.parse(Array(line.utf8))
            return ServedVersion(
                id: try #require(record["threat"]?["id"]?.stringValue),
                updatedAt: try #require(record["threat"]?["threatInfo"]?["updatedAt"]?.stringValue)
            )
        }
    }

    /// Runs `run` until the console, frozen after `passes` list passes, has been read whole once more.
    func runUntilSettled(_ configuration: RunConfiguration, _ emulator: RunningEmulator, passes: Int) async throws -> Checkpoint? {
        let stop = StopSignal()
        let logger = self.logger
        let run = Task { try await ThreatpipeRuntime.run(configuration, logger: logger, stop: stop) }
        await emulator.api.waitForListPasses(atLeast: passes)
        emulator.api.freeze()
        let begun = emulator.api.requestCounts.firstPages
        await emulator.api.waitForListPasses(atLeast: begun + 2)
        stop.requestStop()
        return try await run.value
    }

    @Test func runDeliversEveryVersionOnceAndRestartsWhereItStopped() async throws {
        let emulator = try await RunningEmulator.start(threats: 40, addedPerSecond: 5, updatedPerSecond: 20)
        defer { Task { await emulator.stop() } }
        let configuration = try runConfiguration(emulator)
        let checkpoint = try await runUntilSettled(configuration, emulator, passes: 4)

        let versions = try delivered()
        #expect(Set(versions).count == versions.count, "a version delivered twice")
        let dataset = emulator.api.dataset
        #expect(dataset.count > 40, "the console grew while running")
        let final = (0..<dataset.count).map { ServedVersion(id: dataset.id(at: $0), updatedAt: emulator.api.updatedAt(at: $0).description) }
        #expect(Set(final).subtracting(versions).isEmpty, "a threat lacks its final version")
        #expect(emulator.api.servedVersions.subtracting(versions).isEmpty, "a served version was never delivered")

        // The checkpoint returned is the one saved, and it reached the newest version delivered.
        let saved = try CheckpointFile(path: configuration.statePath).load()?.checkpoint
        #expect(saved == checkpoint)
        #expect(checkpoint?.updatedAt == versions.map(\.updatedAt).max())

        // A restart from that state delivers nothing again (the overlap's versions are remembered, not re-sent).
        let before = versions.count
        _ = try await runUntilSettled(configuration, emulator, passes: emulator.api.requestCounts.firstPages + 1)
        #expect(try delivered().count == before)
    }

    @Test func stateOfOtherFiltersIsRefusedBeforeAnyRequest() async throws {
        let emulator = try await RunningEmulator.start(threats: 5)
        defer { Task { await emulator.stop() } }
        _ = try await runUntilSettled(try runConfiguration(emulator), emulator, passes: 1)
        let requests = emulator.api.requestCounts.total

        let other = try runConfiguration(emulator, filters: [QueryFilter(name: "siteIds", value: "1")])
        let error = await #expect(throws: (any Error).self) {
            _ = try await ThreatpipeRuntime.run(other, logger: logger)
        }
        #expect(error.flatMap(FailureKind.of) == .configuration)
        #expect(Runtime.ExitStatus.of(error!) == .usage)
        #expect(emulator.api.requestCounts.total == requests, "nothing is requested with a state of other filters")
    }

    @Test func exportDeliversEveryThreatAndAStoppedOneExits75() async throws {
        let emulator = try await RunningEmulator.start(threats: 30)
        defer { Task { await emulator.stop() } }
        let configuration = ExportConfiguration(
            console: try console(emulator),
            sinks: SinksConfiguration(sinks: [.ndjson(path: "\(directory)/out.ndjson", rotation: FileRotationSettings())])
        )
        let line = try await ThreatpipeRuntime.export(configuration, logger: logger)
        #expect(line.contains("exported 30 threats"))
        #expect(Set(try delivered().map(\.id)).count == 30)

        let stopped = StopSignal()
        stopped.requestStop()
        let error = await #expect(throws: ExportInterrupted.self) {
            _ = try await ThreatpipeRuntime.export(configuration, logger: logger, stop: stopped)
        }
        #expect(error.map(Runtime.ExitStatus.of) == .incomplete)
    }
}
