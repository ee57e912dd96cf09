import Emulator
import Foundation
import Kafka
import RawJSON
import TestSupport
import Testing

extension EndToEnd {
    /// Records Kafka rejects for good (larger than `message.max.bytes`): set aside in the dead-letter file and the
    /// export or run goes on; without one, a clear stop — never a `run` that retries the same poll for ever.
    @Suite(.serialized) struct PoisonRecordTests {
        /// Threats 0, 10, 20, 30 of 40 carry a 2 MiB analysis; the sink allows 1.9 MB messages. (One more threat of
        /// the data set has enough events to exceed that too: the poisoned set is measured, not assumed.)
        private static let threats = 40
        private static let maximumBytes = 1_900_000

        /// The ids of the records larger than the sink allows, from an export of the same console to stdout.
        private func poisoned(_ emulator: RunningEmulator, _ command: ThreatpipeCommand) async throws -> Set<String> {
            let outcome = try await command.run(["export", "--console-url", emulator.url], environment: ["S1_API_TOKEN": emulator.token])
            let large = try RecordExpectations.lines(outcome.stdout).filter { $0.count > Self.maximumBytes }.map {
                try #require(JSONValue.parse($0)["threat"]?["id"]?.stringValue)
            }
            let dataset = emulator.api.dataset
            #expect(Set([0, 10, 20, 30].map { dataset.id(at: $0) }).isSubset(of: large), "the enlarged analyses are among them")
            return Set(large)
        }

        private func withSetup(_ kind: Broker, _ body: (RunningEmulator, any TestBroker, ThreatpipeCommand) async throws -> Void) async throws {
            try await withEmulatorAndBroker(
                kind, threats: Self.threats, faults: ["large-analysis@every=10"],
                topics: [("threats", 3), ("threats-dl", 3), ("threats-run", 3)], body
            )
        }

        private func kafka(_ cluster: any TestBroker, topic: String) -> [String] {
            ["--sink", "kafka", "--kafka-brokers", cluster.bootstrapServers, "--kafka-topic", topic,
             "--kafka-property", "message.max.bytes=\(Self.maximumBytes)", "--concurrency", "2"]
        }

        private func deadLetters(_ path: String) throws -> [JSONValue] {
            try RecordExpectations.lines(Data(contentsOf: URL(fileURLWithPath: path))).map { try JSONValue.parse($0) }
        }

        @Test(.timeLimit(.minutes(3)), arguments: Broker.allCases) func exportSetsPoisonRecordsAsideOrFailsNamingThem(_ kind: Broker) async throws {
            try await withSetup(kind) { emulator, cluster, command in
                let expectedIDs = try await poisoned(emulator, command)
                let failing = try await command.run(
                    ["export", "--console-url", emulator.url] + kafka(cluster, topic: "threats"),
                    environment: ["S1_API_TOKEN": emulator.token]
                )
                #expect(failing.status == 74, "\(failing.stderr)")
                #expect(failing.stderr.contains("can never be delivered"), "\(failing.stderr)")
                #expect(failing.stderr.contains("MSG_SIZE_TOO_LARGE") && failing.stderr.contains("--dead-letter"), "\(failing.stderr)")

                let file = command.path("dead/letters.ndjson")
                let outcome = try await command.run(
                    ["export", "--console-url", emulator.url, "--dead-letter", file] + kafka(cluster, topic: "threats-dl"),
                    environment: ["S1_API_TOKEN": emulator.token]
                )
                #expect(outcome.status == 0, "\(outcome.stderr)")
                let letters = try deadLetters(file)
                #expect(Set(letters.compactMap { $0["threatId"]?.stringValue }) == expectedIDs)
                #expect(letters.count == expectedIDs.count)
                for letter in letters {
                    #expect(letter["sink"] == "kafka:threats-dl")
                    #expect(letter["reason"] == "MSG_SIZE_TOO_LARGE")
                    #expect(letter["updatedAt"]?.stringValue?.isEmpty == false)
                    #expect(letter["record"]?["threat"]?["id"] == letter["threatId"], "the record itself is kept whole")
                }
                let delivered = try await Kcat.consume(brokers: cluster.bootstrapServers, topic: "threats-dl", format: "%k\n", in: command)
                let keys = RecordExpectations.lines(delivered).map { String(decoding: $0, as: UTF8.self) }
                #expect(keys.count == Self.threats - expectedIDs.count)
                #expect(Set(keys).isDisjoint(with: expectedIDs))
                #expect(outcome.stderr.contains("dead-letter"), "each set-aside record is logged: \(outcome.stderr)")
            }
        }

        /// The reported bug: `run` retried the poll with the poison record for ever, re-producing what came before it.
        /// Now: without a dead-letter file it stops at once with exit 74 and one line naming the threat; with one, the
        /// checkpoint moves past the poison records, each set aside once.
        @Test(.timeLimit(.minutes(3)), arguments: Broker.allCases) func runNeverWedgesOnAPoisonRecord(_ kind: Broker) async throws {
            try await withSetup(kind) { emulator, cluster, command in
                let expectedIDs = try await poisoned(emulator, command)
                let passesBefore = emulator.api.requestCounts.firstPages
                let base = ["run", "--console-url", emulator.url, "--interval", "1s", "--max-backoff", "1s",
                            "--since", "2020-01-01T00:00:00Z", "--state", command.path("state.json")]
                let stopped = try await command.run(base + kafka(cluster, topic: "threats"), environment: ["S1_API_TOKEN": emulator.token])
                #expect(stopped.status == 74, "\(stopped.stderr)")
                let errorLines = stopped.stderr.split(separator: "\n").filter { $0.hasPrefix("threatpipe: error:") }
                #expect(errorLines.count == 1 && errorLines[0].contains("can never be delivered"), "\(stopped.stderr)")
                #expect(emulator.api.requestCounts.firstPages == passesBefore + 1, "the poll was not retried")

                let file = command.path("letters.ndjson")
                let run = try command.start(
                    base + ["--dead-letter", file, "--reset-state"] + kafka(cluster, topic: "threats-run"),
                    environment: ["S1_API_TOKEN": emulator.token]
                )
                let passes = emulator.api.requestCounts.firstPages
                await emulator.api.waitForListPasses(atLeast: passes + 3)
                run.send(SIGTERM)
                let result = await run.wait()
                #expect(result.status == 0, "\(command.stderrSoFar)")
                let letters = try deadLetters(file)
                #expect(letters.count == expectedIDs.count, "each poison record set aside once, not once per poll")
                let delivered = try await Kcat.consume(brokers: cluster.bootstrapServers, topic: "threats-run", format: "%k\n", in: command)
                #expect(RecordExpectations.lines(delivered).count == Self.threats - expectedIDs.count, "nothing re-produced")
                let state = try JSONValue.parse(Array(Data(contentsOf: URL(fileURLWithPath: command.path("state.json")))))
                #expect(state["checkpoint"]?["updatedAt"]?.stringValue != nil, "the checkpoint moved past the poison records")
            }
        }
    }
}
