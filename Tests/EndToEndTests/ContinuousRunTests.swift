import Emulator
import Foundation
import Kafka
import Persistence
import Pipeline
import RawJSON
import TestSupport
import Testing

extension EndToEnd {
    /// `threatpipe run` against a live emulator that keeps adding and updating threats.
    @Suite(.serialized) struct ContinuousRunTests {
        /// Pages of 7 threats: versions sharing an `updatedAt` (every 25th threat shares its neighbour's) fall across
        /// page boundaries, and checkpoints land on them.
        private func runArguments(_ emulator: RunningEmulator, _ command: ThreatpipeCommand) -> [String] {
            ["run", "--console-url", emulator.url, "--interval", "1s", "--since", "2020-01-01T00:00:00Z", "--page-size", "7",
             "--output", command.path("out.ndjson"), "--state", command.path("state.json"), "--concurrency", "8"]
        }

        /// The versions in the output: (id, threatInfo.updatedAt) per line, in order.
        private func deliveredVersions(_ command: ThreatpipeCommand) throws -> [ServedVersion] {
            let data = try Data(contentsOf: URL(fileURLWithPath: command.path("out.ndjson")))
            return try RecordExpectations.lines(data).map { line in
                let record = try JSONValue.parse(line)
                let id = try #require(record["threat"]?["id"]?.stringValue)
                let updatedAt = try #require(record["threat"]?["threatInfo"]?["updatedAt"]?.stringValue)
                return ServedVersion(id: id, updatedAt: updatedAt)
            }
        }

        /// One process per state file: a second `run` on the same `--state` exits 65 at once naming the holder's
        /// pid; once the holder is killed (SIGKILL: its lock dies with it) a run starts again.
        @Test(.timeLimit(.minutes(2))) func aSecondRunOnTheSameStateFileIsRefused() async throws {
            try await withEmulator(threats: 10) { emulator, command in
                let environment = ["S1_API_TOKEN": emulator.token]
                let first = try command.start(runArguments(emulator, command), environment: environment)
                await emulator.api.waitForListPasses(atLeast: 1)
                let second = try await command.run(runArguments(emulator, command), environment: environment)
                #expect(second.status == 65, "\(second.stderr)")
                #expect(second.stderr.contains("is in use by another threatpipe (pid \(first.pid)"), "\(second.stderr)")
                first.send(SIGKILL)
                _ = await first.wait()
                let third = try command.start(runArguments(emulator, command), environment: environment)
                await emulator.api.waitForListPasses(atLeast: emulator.api.requestCounts.firstPages + 2)
                third.send(SIGTERM)
                #expect(await third.wait().status == 0, "\(command.stderrSoFar)")
            }
        }

        /// Freezes the console, lets one whole poll run after the freeze (the poll after it has begun), then stops
        /// `run` with SIGTERM.
        private func finish(_ run: ChildProcess.Started, _ emulator: RunningEmulator) async -> ChildProcess.Result {
            emulator.api.freeze()
            let polls = emulator.api.requestCounts.firstPages
            await emulator.api.waitForListPasses(atLeast: polls + 2)
            run.send(SIGTERM)
            return await run.wait()
        }

        /// Every threat is delivered in its final version; with `everyServedVersion`, so is every version the console
        /// served (not so across crashes: a version served to a run that was killed, and overwritten before the
        /// restart, can legitimately never be delivered).
        private func expectComplete(_ delivered: [ServedVersion], _ emulator: RunningEmulator, everyServedVersion: Bool) {
            let deliveredSet = Set(delivered)
            let dataset = emulator.api.dataset
            #expect(dataset.count > emulator.api.initialDataset.count, "the console grew while running")
            var missingFinal: [String] = []
            for index in 0..<dataset.count {
                let final = ServedVersion(id: dataset.id(at: index), updatedAt: emulator.api.updatedAt(at: index).description)
                if !deliveredSet.contains(final) { missingFinal.append(final.id) }
            }
            #expect(missingFinal.isEmpty, "\(missingFinal.count) threats lack their final version: \(missingFinal.prefix(5))")
            for id in missingFinal.prefix(3) {
                let index = dataset.index(ofID: id)!
                print("missing \(id) index \(index): final \(emulator.api.updatedAt(at: index)); delivered \(delivered.filter { $0.id == id }.map(\.updatedAt)); served \(emulator.api.servedVersions.filter { $0.id == id }.map(\.updatedAt).sorted())")
            }
            guard everyServedVersion else { return }
            let missingServed = emulator.api.servedVersions.subtracting(deliveredSet)
            #expect(missingServed.isEmpty, "\(missingServed.count) served versions never delivered")
        }

        @Test(.timeLimit(.minutes(3))) func deliversEveryVersionOnceAndStopsGracefullyAtTheAcknowledgedCheckpoint() async throws {
            let emulator = try await RunningEmulator.start(threats: 150, addedPerSecond: 8, updatedPerSecond: 15)
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let run = try command.start(runArguments(emulator, command), environment: ["S1_API_TOKEN": emulator.token])
            await emulator.api.waitForListPasses(atLeast: 4)
            let result = await finish(run, emulator)
            await emulator.stop()
            let stderr = command.stderrSoFar
            #expect(result.status == 0, "\(stderr)")
            #expect(result.elapsed < .seconds(120))

            let delivered = try deliveredVersions(command)
            #expect(Set(delivered).count == delivered.count, "each version once")
            expectComplete(delivered, emulator, everyServedVersion: true)

            let state = try #require(try CheckpointFile(path: command.path("state.json")).load())
            let checkpoint = try #require(state.checkpoint)
            let latest = try #require(delivered.compactMap { RFC3339Timestamp($0.updatedAt) }.max())
            #expect(RFC3339Timestamp(checkpoint.updatedAt) == latest, "the checkpoint is the last acknowledged version")
            #expect(Set(checkpoint.idsAtUpdatedAt) == Set(delivered.filter { RFC3339Timestamp($0.updatedAt) == latest }.map(\.id)))
        }

        /// A console whose updates become visible two seconds after their `updatedAt` (replication lag): without an
        /// overlap, a poll that already passed that instant never sees them; with `--overlap 5s` every final version
        /// arrives, and none twice.
        @Test(.timeLimit(.minutes(3))) func overlapCatchesVersionsThatBecomeVisibleLate() async throws {
            var missingByOverlap: [String: Int] = [:]
            for overlap in ["0s", "5s"] {
                let emulator = try await RunningEmulator.start(threats: 150, updatedPerSecond: 10, lateUpdatedPerSecond: 3)
                let command = try ThreatpipeCommand()
                defer { command.cleanUp() }
                let run = try command.start(
                    runArguments(emulator, command) + ["--overlap", overlap], environment: ["S1_API_TOKEN": emulator.token]
                )
                await emulator.api.waitForListPasses(atLeast: 7)
                let result = await finish(run, emulator)
                await emulator.stop()
                #expect(result.status == 0, "\(command.stderrSoFar)")
                let delivered = try deliveredVersions(command)
                let deliveredSet = Set(delivered)
                let dataset = emulator.api.dataset
                missingByOverlap[overlap] = (0..<dataset.count).filter { index in
                    !deliveredSet.contains(ServedVersion(id: dataset.id(at: index), updatedAt: emulator.api.updatedAt(at: index).description))
                }.count
                if overlap == "5s" { #expect(deliveredSet.count == delivered.count, "each version once") }
            }
            #expect((missingByOverlap["0s"] ?? 0) > 0, "late versions exist and are lost without an overlap: \(missingByOverlap)")
            #expect(missingByOverlap["5s"] == 0, "with an overlap every final version arrives: \(missingByOverlap)")
        }

        @Test(.timeLimit(.minutes(4))) func killedAtRandomMomentsAndRestartedLosesNothing() async throws {
            let emulator = try await RunningEmulator.start(threats: 150, addedPerSecond: 8, updatedPerSecond: 15)
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<3 {
                let run = try command.start(runArguments(emulator, command), environment: ["S1_API_TOKEN": emulator.token])
                await emulator.api.waitForRequests(atLeast: emulator.api.requestCounts.total + Int.random(in: 50...600, using: &generator))
                run.send(SIGKILL)
                #expect(await run.wait().status == 128 + SIGKILL)
            }
            let run = try command.start(runArguments(emulator, command), environment: ["S1_API_TOKEN": emulator.token])
            await emulator.api.waitForListPasses(atLeast: emulator.api.requestCounts.firstPages + 2)
            let result = await finish(run, emulator)
            await emulator.stop()
            let stderr = command.stderrSoFar
            #expect(result.status == 0, "\(stderr)")
            let delivered = try deliveredVersions(command)
            expectComplete(delivered, emulator, everyServedVersion: false)
        }

        /// The same with the Kafka sink: the broker goes away for a while, the run is killed once in the outage,
        /// and every threat still reaches the topic in its final version.
        @Test(.timeLimit(.minutes(4)), arguments: Broker.allCases)
        func kafkaSinkThroughABrokerOutageAndACrashLosesNothing(_ kind: Broker) async throws {
            let emulator = try await RunningEmulator.start(threats: 100, addedPerSecond: 6, updatedPerSecond: 10)
            let cluster = try kind.start(topics: [("threats", 3)])
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let arguments = ["run", "--console-url", emulator.url, "--interval", "1s", "--since", "2020-01-01T00:00:00Z",
                             "--sink", "kafka", "--kafka-brokers", cluster.bootstrapServers, "--kafka-topic", "threats",
                             "--kafka-flush-timeout", "3", "--state", command.path("state.json")]
            var run = try command.start(arguments, environment: ["S1_API_TOKEN": emulator.token])
            await emulator.api.waitForListPasses(atLeast: 3)
            try cluster.setReachable(false)
            await emulator.api.waitForListPasses(atLeast: emulator.api.requestCounts.firstPages + 2)
            run.send(SIGKILL)
            _ = await run.wait()
            run = try command.start(arguments, environment: ["S1_API_TOKEN": emulator.token])
            await emulator.api.waitForListPasses(atLeast: emulator.api.requestCounts.firstPages + 2)
            try cluster.setReachable(true)
            await emulator.api.waitForListPasses(atLeast: emulator.api.requestCounts.firstPages + 2)
            let result = await finish(run, emulator)
            await emulator.stop()
            let stderr = command.stderrSoFar
            #expect(result.status == 0, "\(stderr)")
            let data = try await Kcat.consume(brokers: cluster.bootstrapServers, topic: "threats", format: "%s\n", in: command)
            let delivered = try RecordExpectations.lines(data).map { line in
                let record = try JSONValue.parse(line)
                return ServedVersion(
                    id: try #require(record["threat"]?["id"]?.stringValue),
                    updatedAt: try #require(record["threat"]?["threatInfo"]?["updatedAt"]?.stringValue)
                )
            }
            expectComplete(delivered, emulator, everyServedVersion: false)
            withExtendedLifetime(cluster) {}
        }

        /// A 400 for a cursor (expired, say) fails that poll; the next one starts again from the checkpoint and
        /// nothing is lost.
        @Test(.timeLimit(.minutes(2))) func expiredCursorRestartsTheWindowFromTheCheckpoint() async throws {
            let emulator = try await RunningEmulator.start(threats: 60, faults: ["expired-cursor@requests=2,9"])
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let run = try command.start(runArguments(emulator, command), environment: ["S1_API_TOKEN": emulator.token])
            await emulator.api.waitForListPasses(atLeast: 3)
            let result = await finish(run, emulator)
            await emulator.stop()
            let stderr = command.stderrSoFar
            #expect(result.status == 0, "\(stderr)")
            #expect(stderr.contains("invalid or expired cursor"), "the fault was met")
            let delivered = try deliveredVersions(command)
            #expect(Set(delivered.map(\.id)).count == 60)
        }

        /// A rejected token does not end `run` (it may be rotated) nor cause a storm: one list request per poll, a
        /// critical line each time, the wait doubling up to --max-backoff; SIGTERM still stops it cleanly.
        @Test(.timeLimit(.minutes(1))) func rejectedTokenBacksOffLoudlyWithoutAStorm() async throws {
            let emulator = try await RunningEmulator.start(threats: 10)
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let revoked = "tp-revoked-token-4c1d2e"
            let run = try command.start(
                runArguments(emulator, command) + ["--max-backoff", "2s"], environment: ["S1_API_TOKEN": revoked]
            )
            await emulator.api.waitForRequests(atLeast: 4)
            while command.stderrSoFar.components(separatedBy: "poll failed and will keep failing").count - 1 < 4 {
                try await Task.sleep(for: .milliseconds(50))
            }
            run.send(SIGTERM)
            let result = await run.wait()
            await emulator.stop()
            let stderr = command.stderrSoFar
            #expect(result.status == 0, "\(stderr)")
            let failures = stderr.split(separator: "\n").filter { $0.contains("poll failed and will keep failing") }
            #expect(failures.allSatisfy { $0.contains("rejected the API token (HTTP 401)") }, "\(stderr)")
            #expect(failures.count >= 4)
            #expect(failures[0].contains(#"next_poll_in="1.0 seconds""#), "\(failures[0])")
            #expect(failures[1].contains(#"next_poll_in="2.0 seconds""#), "\(failures[1])")
            #expect(failures[3].contains(#"next_poll_in="2.0 seconds""#), "capped: \(failures[3])")
            let counts = emulator.api.requestCounts
            #expect(counts.rejected <= failures.count + 1, "one request per poll, not retried")
            #expect(counts.analysis + counts.events == 0)
            #expect(!stderr.contains(revoked))
        }

        @Test(.timeLimit(.minutes(1))) func aSecondSignalExitsAtOnce() async throws {
            // A slow console and a full page in flight: draining after the first signal would take half a minute.
            let emulator = try await RunningEmulator.start(threats: 200, latency: .milliseconds(500))
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let run = try command.start(
                runArguments(emulator, command) + ["--page-size", "200", "--concurrency", "4"],
                environment: ["S1_API_TOKEN": emulator.token]
            )
            await emulator.api.waitForRequests(atLeast: 5)
            run.send(SIGTERM)
            // Signals of one kind do not queue: the second must come after the first was taken, which the run
            // says on standard error.
            while !command.stderrSoFar.contains("stopping:") {
                try await Task.sleep(for: .milliseconds(20))
            }
            run.send(SIGTERM)
            let result = await run.wait()
            await emulator.stop()
            #expect(result.status == 130)
            #expect(result.elapsed < .seconds(20))
            let stderr = command.stderrSoFar
            #expect(stderr.contains("exiting now"), "\(stderr)")
        }

        @Test func corruptStateFileIsAClearErrorAndIsLeftAsItWas() async throws {
            let emulator = try await RunningEmulator.start(threats: 5)
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let garbage = "{\"version\": 1, \"checkpoint\": trunc"
            try garbage.write(toFile: command.path("state.json"), atomically: true, encoding: .utf8)
            let outcome = try await command.run(runArguments(emulator, command), environment: ["S1_API_TOKEN": emulator.token])
            await emulator.stop()
            #expect(outcome.status == 65, "\(outcome.stderr)")
            #expect(outcome.stderr.contains("state file \(command.path("state.json")) is not a threatpipe state file"), "\(outcome.stderr)")
            #expect(try String(contentsOfFile: command.path("state.json"), encoding: .utf8) == garbage)
            #expect(emulator.api.requestCounts.total == 0)
        }
    }
}
