import Emulator
import Foundation
import Kafka
import RawJSON
import TestSupport
import Testing

extension EndToEnd {
    /// `run` opens its sinks once: nothing leaks per poll (failed polls included), one Kafka producer serves the
    /// whole run, and rotation by age works across polls.
    @Suite(.serialized) struct LongLivedSinkTests {
        /// Open descriptors and threads of a process (a producer brings threads and sockets of its own).
        private func resources(of pid: pid_t) -> (descriptors: Int, threads: Int) {
            let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
            let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? -1
            return (descriptors, threads)
        }

        @Test(.timeLimit(.minutes(3))) func descriptorsAndThreadsStayFlatOverTwentyFailedPolls() async throws {
            let emulator = try await RunningEmulator.start(threats: 10, faults: ["503"])
            let cluster = try KafkaMockCluster(brokers: 1)
            try cluster.createTopic("threats", partitions: 1, replicationFactor: 1)
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let run = try command.start(
                ["run", "--console-url", emulator.url, "--interval", "1s", "--max-backoff", "1s", "--max-retries", "0",
                 "--state", command.path("state.json"), "--sink", "ndjson", "--output", command.path("out.ndjson"),
                 "--sink", "kafka", "--kafka-brokers", cluster.bootstrapServers, "--kafka-topic", "threats"],
                environment: ["S1_API_TOKEN": emulator.token]
            )
            await emulator.api.waitForListPasses(atLeast: 3)
            let early = resources(of: run.pid)
            await emulator.api.waitForListPasses(atLeast: 23)
            let late = resources(of: run.pid)
            run.send(SIGTERM)
            let result = await run.wait()
            await emulator.stop()
            withExtendedLifetime(cluster) {}
            #expect(result.status == 0, "\(command.stderrSoFar)")
            // A leak of one per failed poll would add 20; a connection or a flush thread caught in passing adds one or two.
            #expect(early.descriptors > 0 && late.descriptors <= early.descriptors + 2, "descriptors \(early.descriptors) → \(late.descriptors)")
            #expect(late.threads <= early.threads + 2, "threads \(early.threads) → \(late.threads): one producer for the run")
            #expect(command.stderrSoFar.contains("poll failed"), "the polls did fail")
        }

        /// `--rotate-interval` fires in `run` (each poll used to open a new file, resetting its age), and `--retain`
        /// prunes: the current file plus at most two rotated ones, every record in one of them exactly once.
        @Test(.timeLimit(.minutes(3))) func rotationByAgeWorksAcrossPolls() async throws {
            let emulator = try await RunningEmulator.start(threats: 30, addedPerSecond: 10)
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let output = command.path("logs/out.ndjson")
            let run = try command.start(
                ["run", "--console-url", emulator.url, "--interval", "1s", "--since", "2020-01-01T00:00:00Z",
                 "--state", command.path("state.json"), "--output", output, "--rotate-interval", "2s", "--retain", "2"],
                environment: ["S1_API_TOKEN": emulator.token]
            )
            await emulator.api.waitForListPasses(atLeast: 8)
            emulator.api.freeze()
            let polls = emulator.api.requestCounts.firstPages
            await emulator.api.waitForListPasses(atLeast: polls + 2)
            run.send(SIGTERM)
            let result = await run.wait()
            await emulator.stop()
            #expect(result.status == 0, "\(command.stderrSoFar)")
            let directory = command.path("logs")
            let rotated = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("out.ndjson.") }
            #expect(!rotated.isEmpty, "files were rotated by age")
            #expect(rotated.count <= 2, "--retain 2 kept \(rotated)")
        }
    }
}
