import Emulator
import Foundation
import Kafka
import RawJSON
import TestSupport
import Testing

extension EndToEnd {
    /// `threatpipe export --sink kafka` over TCP on loopback, read back with kcat: against librdkafka's mock cluster and
    /// against Tansu wherever both can show a thing (injected produce errors only the mock can make).
    @Suite(.serialized) struct KafkaExportTests {
        private func withSetup(
            threats: Int,
            brokers: Int = 3,
            _ body: (RunningEmulator, KafkaMockCluster, ThreatpipeCommand) async throws -> Void
        ) async throws {
            try await withEmulatorAndCluster(threats: threats, brokers: brokers, body)
        }

        private func exportArguments(_ emulator: RunningEmulator, _ cluster: any TestBroker, _ extra: [String] = []) -> [String] {
            ["export", "--console-url", emulator.url, "--sink", "kafka", "--kafka-brokers", cluster.bootstrapServers,
             "--kafka-topic", "threats", "--events-page-size", "50"] + extra
        }

        /// The consumed messages as (key, value) pairs.
        private func consume(_ cluster: any TestBroker, _ command: ThreatpipeCommand) async throws -> [(key: String, value: [UInt8])] {
            let data = try await Kcat.consume(brokers: cluster.bootstrapServers, topic: "threats", format: "%k\t%s\n", in: command)
            return RecordExpectations.lines(data).map { line in
                let tab = line.firstIndex(of: 0x09)!
                return (String(decoding: line[..<tab], as: UTF8.self), Array(line[(tab + 1)...]))
            }
        }

        @Test(arguments: Broker.allCases) func recordsInKafkaEqualTheNDJSONExportByteForByteKeyedByThreatID(_ kind: Broker) async throws {
            try await withEmulatorAndBroker(kind, threats: 600) { emulator, cluster, command in
                let output = command.path("threats.ndjson")
                let outcome = try await command.run(
                    exportArguments(emulator, cluster, ["--sink", "ndjson", "--output", output]),
                    environment: ["S1_API_TOKEN": emulator.token]
                )
                #expect(outcome.status == 0, "\(outcome.stderr)")
                let file = try Data(contentsOf: URL(fileURLWithPath: output))
                try RecordExpectations.verify(file, against: emulator.api.dataset, expectedCount: 600)
                let messages = try await consume(cluster, command)
                #expect(messages.count == 600)
                #expect(messages.map(\.value).sorted { $0.lexicographicallyPrecedes($1) }
                    == RecordExpectations.lines(file).sorted { $0.lexicographicallyPrecedes($1) })
                for message in messages {
                    let record = try JSONValue.parse(message.value)
                    #expect(record["meta"]?["threatId"]?.stringValue == message.key)
                }
                let headers = try await Kcat.consume(brokers: cluster.bootstrapServers, topic: "threats", format: "%h\n", in: command)
                let first = String(decoding: RecordExpectations.lines(headers)[0], as: UTF8.self)
                #expect(first.hasPrefix(
                    "content-type=application/json,threatpipe-format=raw,threatpipe-schema=threatpipe.enriched-threat.v1,threatpipe-version-id="
                ), "\(first)")
                // The version header names the record's threat version: `<threat id>:<threatInfo.updatedAt>`.
                let versions = try RecordExpectations.lines(file).map { line -> String in
                    let record = try JSONValue.parse(line)
                    return "\(record["threat"]?["id"]?.stringValue ?? ""):\(record["threat"]?["threatInfo"]?["updatedAt"]?.stringValue ?? "")"
                }
                #expect(versions.contains(String(first.split(separator: "threatpipe-version-id=").last ?? "")))
            }
        }

        /// The only broker goes down after the 300th API request and comes back 400 requests later: librdkafka retries,
        /// the sink waits, and every record arrives — exactly once on Tansu. librdkafka 2.0.2's mock cluster once kept
        /// one record twice (1501 of 1500, once in a handful of runs): its idempotence does not always catch a retry of a
        /// batch it appended as the connection dropped, so there only loss is ruled out, and duplicates are bounded.
        @Test(.timeLimit(.minutes(3)), arguments: Broker.allCases) func brokerDownMidExportLosesNothing(_ kind: Broker) async throws {
            let threats = 1500
            try await withEmulatorAndBroker(kind, threats: threats) { emulator, cluster, command in
                async let outcome = command.run(
                    exportArguments(emulator, cluster, ["--concurrency", "4"]), environment: ["S1_API_TOKEN": emulator.token],
                    discardStdout: true
                )
                await emulator.api.waitForRequests(atLeast: 300)
                try cluster.setReachable(false)
                await emulator.api.waitForRequests(atLeast: 700)
                try cluster.setReachable(true)
                let result = try await outcome
                #expect(result.status == 0, "\(result.stderr)")
                let messages = try await consume(cluster, command)
                #expect(Set(messages.map(\.key)).count == threats, "no record lost")
                if kind == .tansu {
                    #expect(messages.count == threats, "none duplicated")
                } else {
                    #expect(messages.count <= threats + 10, "\(messages.count - threats) duplicated")
                }
            }
        }

        /// The mock cluster only: Tansu cannot be made to answer a produce request with an error.
        @Test func injectedProduceErrorsAreRetriedWithoutLossOrDuplicates() async throws {
            try await withSetup(threats: 400) { emulator, cluster, command in
                cluster.failNextProduceRequests(with: [
                    KafkaMockCluster.ErrorCode.notLeaderForPartition, KafkaMockCluster.ErrorCode.requestTimedOut,
                    KafkaMockCluster.ErrorCode.notEnoughReplicas, KafkaMockCluster.ErrorCode.notEnoughReplicas,
                    KafkaMockCluster.ErrorCode.requestTimedOut,
                ])
                let outcome = try await command.run(exportArguments(emulator, cluster), environment: ["S1_API_TOKEN": emulator.token])
                #expect(outcome.status == 0, "\(outcome.stderr)")
                let messages = try await consume(cluster, command)
                #expect(messages.count == 400, "no record lost, none duplicated")
                #expect(Set(messages.map(\.key)).count == 400)
            }
        }

        @Test(arguments: Broker.allCases) func recordLargerThanTheMessageLimitStopsTheExportClearly(_ kind: Broker) async throws {
            try await withEmulatorAndBroker(kind, threats: 30) { emulator, cluster, command in
                let outcome = try await command.run(
                    exportArguments(emulator, cluster, ["--kafka-property", "message.max.bytes=4000"]),
                    environment: ["S1_API_TOKEN": emulator.token]
                )
                #expect(outcome.status == 74, "\(outcome.stderr)")
                #expect(outcome.stderr.contains("MSG_SIZE_TOO_LARGE"), "\(outcome.stderr)")
                #expect(outcome.stderr.hasPrefix("threatpipe: error: kafka:threats:"), "\(outcome.stderr)")
            }
        }

        /// A broker that cannot be spoken to: Tansu's own listener, whose ApiVersions answer librdkafka 2.0.2 cannot
        /// read, and a closed port. The export says what it waits for while it waits, its error carries librdkafka's
        /// own cause (and, for the ApiVersions answer, the librdkafka version that reads it), and `check` says the same.
        @Test(.timeLimit(.minutes(2))) func aBrokerThatCannotBeSpokenToIsNamedWithLibrdkafkasCause() async throws {
            let broker = try TansuBroker(topics: [("threats", 3)])
            try await withEmulator(threats: 5) { emulator, command in
                let environment = ["S1_API_TOKEN": emulator.token]
                for (servers, cause) in [(broker.directServers, "ApiVersionRequest failed"), ("127.0.0.1:1", "Connection refused")] {
                    let kafka = ["--sink", "kafka", "--kafka-brokers", servers, "--kafka-topic", "threats"]
                    let outcome = try await command.run(
                        ["export", "--console-url", emulator.url, "--kafka-flush-timeout", "7"] + kafka, environment: environment
                    )
                    #expect(outcome.status == 74, "\(outcome.stderr)")
                    let errors = outcome.stderr.split(separator: "\n").filter { $0.hasPrefix("threatpipe: error:") }
                    #expect(errors.count == 1 && errors[0].contains("no broker was reached") && errors[0].contains(cause), "\(outcome.stderr)")
                    #expect(outcome.stderr.contains("waiting for Kafka to take 5 records"), "\(outcome.stderr)")
                    if cause.hasPrefix("ApiVersion") {
                        #expect(errors.first?.contains("librdkafka 2.1.2 and later read it") == true, "\(outcome.stderr)")
                    }
                    let check = try await command.run(["check", "--console-url", emulator.url] + kafka, environment: environment)
                    let failed = check.stdoutText.split(separator: "\n").first { $0.hasPrefix("FAIL  kafka broker") } ?? ""
                    #expect(failed.contains(cause), "\(check.stdoutText)")
                }
            }
            withExtendedLifetime(broker) {}
        }

        @Test func unknownKafkaPropertyIsAUsageErrorWithLibrdkafkasText() async throws {
            try await withSetup(threats: 5) { emulator, cluster, command in
                let outcome = try await command.run(
                    exportArguments(emulator, cluster, ["--kafka-property", "no.such.property=1"]),
                    environment: ["S1_API_TOKEN": emulator.token]
                )
                #expect(outcome.status == 64, "\(outcome.stderr)")
                #expect(outcome.stderr.contains("No such configuration property"), "\(outcome.stderr)")
                #expect(emulator.api.requestCounts.total == 0)
            }
        }
    }
}
