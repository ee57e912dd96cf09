import Foundation
import Kafka
import TestSupport
import Testing
import Emulator

extension EndToEnd {
    /// The Kafka store's own topics set up at start, as Kafka Connect sets up its internal topics: created when
    /// missing (compacted, the state topic with the checkpoint topic's partitions), refused at start with exit 64 and
    /// one line when they cannot work — and `check` says the same with the same exit status. On Tansu, which answers
    /// CreateTopics and DescribeConfigs (librdkafka's mock cluster answers neither).
    @Suite(.serialized) struct InternalTopicSetupTests {
        static func arguments(_ emulator: RunningEmulator, _ broker: any TestBroker, _ extra: [String] = []) -> [String] {
            ["--console-url", emulator.url, "--sink", "kafka", "--kafka-brokers", broker.bootstrapServers,
             "--kafka-topic", "threats", "--checkpoint-store", "kafka", "--instance-id", "setup-test"] + extra
        }

        /// An empty cluster, no topic created by hand: `run` creates the checkpoint and state topics, compacted (the
        /// broker creates the records' topic at the first produce, as Apache Kafka does by default), and delivers
        /// every threat exactly once; `check` then finds both present and compacted.
        @Test(.timeLimit(.minutes(3))) func runOnAnEmptyClusterCreatesItsTopics() async throws {
            let broker = try TansuBroker(topics: [])
            try await withEmulator(threats: 30) { emulator, command in
                let environment = ["S1_API_TOKEN": emulator.token]
                let precheck = try await command.run(["check"] + Self.arguments(emulator, broker, ["--checkpoint-partitions", "3"]), environment: environment)
                // The records' topic is the user's (threatpipe never creates it): on an empty cluster it is the one failure.
                let failures = precheck.stdoutText.split(separator: "\n").filter { $0.hasPrefix("FAIL") }
                #expect(failures.count == 1 && failures[0].hasPrefix("FAIL  kafka topic threats"), "\(precheck.stdoutText)")
                #expect(precheck.stdoutText.contains("ok    checkpoint topic threatpipe.checkpoints: does not exist: will be created with 3 partitions"), "\(precheck.stdoutText)")
                #expect(precheck.stdoutText.contains("ok    state topic threatpipe.threat-state: does not exist: will be created with 3 partitions"), "\(precheck.stdoutText)")
                let run = try command.start(
                    ["run", "--interval", "1s", "--since", "2020-01-01T00:00:00Z", "--delivery", "exactly-once", "--checkpoint-partitions", "3"] + Self.arguments(emulator, broker),
                    environment: environment
                )
                await emulator.api.waitForListPasses(atLeast: 3)
                run.send(SIGTERM)
                #expect(await run.wait().status == 0, "\(command.stderrSoFar)")
                let log = command.stderrSoFar
                #expect(log.contains("msg=\"topic created\"") && log.contains("topic=threatpipe.checkpoints"), "\(log)")
                #expect(log.contains("topic=threatpipe.threat-state"), "\(log)")
                let partitions = try KafkaClusterProbe.metadata(
                    topic: "threats", properties: [("bootstrap.servers", broker.bootstrapServers)], timeout: .seconds(5)
                ).partitions ?? 1
                let records = try await KafkaBatches.read(brokers: broker.bootstrapServers, topic: "threats", partitions: partitions, in: command)
                let versions = try TansuExactlyOnceTests.versions(records.filter { $0.state == .committed })
                #expect(Set(versions.map(\.id)).count == 30, "\(versions.count) committed records")
                #expect(versions.count == 30, "every version once")
                let after = try await command.run(["check"] + Self.arguments(emulator, broker), environment: environment)
                #expect(after.status == 0, "\(after.stdoutText)")
                #expect(after.stdoutText.contains("ok    checkpoint topic threatpipe.checkpoints: present, 3 partitions, compacted (cleanup.policy=compact)"), "\(after.stdoutText)")
                #expect(after.stdoutText.contains("ok    state topic threatpipe.threat-state: present, 3 partitions, compacted (cleanup.policy=compact)"), "\(after.stdoutText)")
            }
            withExtendedLifetime(broker) {}
        }

        /// A state topic with fewer partitions than the checkpoint topic (what a broker's auto-creation leaves), a
        /// missing topic with --no-create-topics, and a topic name Kafka refuses: `run` exits 64 at once with one
        /// line and requests nothing of the console; `check` fails with the same status.
        @Test(.timeLimit(.minutes(3))) func topicsThatCannotWorkStopTheStartWithExit64() async throws {
            let broker = try TansuBroker(topics: [("threats", 3), ("threatpipe.checkpoints", 12), ("small.state", 1)])
            try await withEmulator(threats: 5) { emulator, command in
                let environment = ["S1_API_TOKEN": emulator.token]
                let cases: [(extra: [String], says: String)] = [
                    (["--state-topic", "small.state"], "has 1 partitions, fewer than the checkpoint topic threatpipe.checkpoints's 12"),
                    (["--state-topic", "no.such.state", "--no-create-topics"], "does not exist and --no-create-topics is set"),
                    (["--state-topic", "bad name/x"], "is not a valid Kafka topic name"),
                    (["--checkpoint-topic", "bad name/x"], "is not a valid Kafka topic name"),
                ]
                for (extra, says) in cases {
                    let started = ContinuousClock.now
                    let asked = emulator.api.requestCounts.total
                    let run = try await command.run(["run", "--since", "2020-01-01T00:00:00Z"] + Self.arguments(emulator, broker, extra), environment: environment)
                    #expect(run.status == 64, "\(extra): \(run.stderr)")
                    #expect(emulator.api.requestCounts.total == asked, "\(extra): a run that could not work asked the console")
                    #expect(ContinuousClock.now - started < .seconds(30), "\(extra)")
                    let errors = run.stderr.split(separator: "\n").filter { $0.hasPrefix("threatpipe: error:") }
                    #expect(errors.count == 1 && errors[0].contains(says), "\(extra): \(run.stderr)")
                    let check = try await command.run(["check"] + Self.arguments(emulator, broker, extra), environment: environment)
                    #expect(check.status == 64, "\(extra): \(check.stdoutText)")
                    #expect(check.stdoutText.contains("FAIL ") && check.stdoutText.contains(says), "\(extra): \(check.stdoutText)")
                }
            }
            withExtendedLifetime(broker) {}
        }
    }
}
