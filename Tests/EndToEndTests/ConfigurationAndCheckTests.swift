import Foundation
import Kafka
import RawJSON
import TestSupport
import Testing
import Emulator

extension EndToEnd {
    /// `--config` files, `THREATPIPE_*` variables and flags, in that order of strength; and `threatpipe check`.
    @Suite(.serialized) struct ConfigurationAndCheckTests {
        /// The most events any record carries: `max-events` as the winning layer set it.
        static func mostEvents(_ outcome: ThreatpipeCommand.Outcome) throws -> Int {
            try RecordExpectations.lines(outcome.stdout).map { line -> Int in
                guard case .number(let count)? = try JSONValue.parse(line)["meta"]?["events"]?["count"] else { return 0 }
                return Int(count) ?? 0
            }.max() ?? 0
        }

        @Test func flagsWinOverEnvironmentWhichWinsOverTheFile() async throws {
            try await withEmulator(threats: 10) { emulator, command in
                let file = command.path("threatpipe.yaml")
                try "# a comment\nconsole-url: \(emulator.url)\nmax-events: 1\nevents-page-size: 10\ninterval: 5s\n"
                    .write(toFile: file, atomically: true, encoding: .utf8)
                let environment = ["S1_API_TOKEN": emulator.token]
                let fromFile = try await command.run(["export", "--config", file], environment: environment)
                let fromEnvironment = try await command.run(
                    ["export", "--config", file], environment: environment.merging(["THREATPIPE_MAX_EVENTS": "2"]) { $1 }
                )
                let fromFlag = try await command.run(
                    ["export", "--config", file, "--max-events", "3"],
                    environment: environment.merging(["THREATPIPE_MAX_EVENTS": "2"]) { $1 }
                )
                for outcome in [fromFile, fromEnvironment, fromFlag] { #expect(outcome.status == 0, "\(outcome.stderr)") }
                #expect(try Self.mostEvents(fromFile) == 1, "the file's max-events (and its console-url; interval is run's)")
                #expect(try Self.mostEvents(fromEnvironment) == 2)
                #expect(try Self.mostEvents(fromFlag) == 3)
            }
        }

        @Test(arguments: [
            ("consol-url: http://x\n", "unknown key 'consol-url'", "did you mean 'console-url'?"),
            ("api-token: abc\n", "unknown key 'api-token'", "secrets are read from files"),
            ("- just\n- a list\n", "must be a mapping", ""),
            ("filter: {siteIds: 1}\n", "takes a value or a list", ""),
            ("reset-state: maybe\n", "takes true or false", ""),
            ("shards: site-1\n", "'shards' in", "takes a list of shards"),
            ("shards:\n  - filter: [siteIds=1]\n", "shard 1 in", "has no name"),
            ("shards:\n  - name: a\n    colour: red\n", "shard 1 in", "'colour' is not a shard key"),
            ("config: other.yaml\n", "a configuration file cannot name another one", ""),
            ("\"\": 1\n", "has an empty key", ""),
            ("? [a, b]\n: 1\n", "has a key that is a list or a mapping", ""),
        ])
        func badConfigurationFilesExit64NamingTheProblem(_ text: String, _ message: String, _ hint: String) async throws {
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let file = command.path("bad.yaml")
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let outcome = try await command.run(["export", "--config", file], environment: ["S1_API_TOKEN": "t"])
            #expect(outcome.status == 64)
            #expect(outcome.stderr.contains(message) && (hint.isEmpty || outcome.stderr.contains(hint)), "\(outcome.stderr)")
        }

        /// S1_CONSOLE_URL is the environment's layer too (it wins over the file); a flag's variable that is not true or
        /// false is an error, not a silent false; a quoted `'false'` in the file is false.
        @Test func theConsoleVariableWinsOverTheFileAndFlagWordsAreChecked() async throws {
            try await withEmulator(threats: 4) { emulator, command in
                let file = command.path("threatpipe.yaml")
                try "console-url: http://127.0.0.1:9\ninsecure-skip-tls-verify: 'false'\n".write(toFile: file, atomically: true, encoding: .utf8)
                let outcome = try await command.run(
                    ["export", "--config", file], environment: ["S1_API_TOKEN": emulator.token, "S1_CONSOLE_URL": emulator.url]
                )
                #expect(outcome.status == 0, "\(outcome.stderr)")
                #expect(RecordExpectations.lines(outcome.stdout).count == 4)
                let refused = try await command.run(
                    ["export", "--console-url", emulator.url], environment: ["S1_API_TOKEN": emulator.token, "THREATPIPE_INSECURE_SKIP_TLS_VERIFY": "nope"]
                )
                #expect(refused.status == 64, "\(refused.stderr)")
                #expect(refused.stderr.contains("THREATPIPE_INSECURE_SKIP_TLS_VERIFY takes true or false, not 'nope'"), "\(refused.stderr)")
            }
        }

        /// Every key of the commented example is one threatpipe knows (the example is what new users copy).
        @Test func theDeployExampleIsAValidConfiguration() async throws {
            let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../deploy/threatpipe.example.yaml").standardized.path
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            // --help parses nothing, so only a bad key (found before parsing) can fail it.
            let outcome = try await command.run(["run", "--config", example, "--help"])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let shards = try await command.run(["run", "--config", example.replacingOccurrences(of: "threatpipe.example", with: "threatpipe.shards.example"), "--help"])
            #expect(shards.status == 0, "\(shards.stderr)")
        }

        /// `check --group` lists the group's shards — console, token source, filters, partition — and says whether
        /// the checkpoint topic has partitions enough; an unusable shard list is exit 64 before anything is tried.
        @Test(.timeLimit(.minutes(2))) func checkListsTheGroupsShards() async throws {
            try await withEmulatorAndCluster(threats: 10, brokers: 1, topics: ["threats", "threatpipe.checkpoints"]) { emulator, cluster, command in
                let file = command.path("group.yaml")
                try """
                    shards:
                      - name: site-1
                        filter: ["siteIds=1286405255257023125"]
                      - name: elsewhere
                        console-url: http://127.0.0.1:9
                        api-token-file: \(command.path("missing-token"))
                      - name: site-3
                        filter: siteIds=1286405255257023127
                      - name: site-4

                    """.write(toFile: file, atomically: true, encoding: .utf8)
                let arguments = ["check", "--config", file, "--console-url", emulator.url, "--sink", "kafka",
                                 "--kafka-brokers", cluster.bootstrapServers, "--kafka-topic", "threats",
                                 "--checkpoint-store", "kafka", "--group", "soc"]
                let outcome = try await command.run(arguments, environment: ["S1_API_TOKEN": emulator.token])
                let text = outcome.stdoutText
                #expect(text.contains("ok    group soc: 4 shards, consumer group threatpipe-soc, 3 partitions: fewer partitions than shards"), "\(text)")
                #expect(text.contains("ok    shard site-1: console \(emulator.url), token $S1_API_TOKEN readable, filters siteIds=1286405255257023125, partition 0"), "\(text)")
                #expect(text.contains("FAIL  shard elsewhere: console http://127.0.0.1:9, token \(command.path("missing-token")) unreadable"), "\(text)")
                #expect(text.contains("shard site-4: console \(emulator.url), token $S1_API_TOKEN readable, filters none, partition"), "\(text)")
                #expect(outcome.status == 64, "an unreadable token file is configuration: \(outcome.stderr)")
                let repeated = command.path("repeated.yaml")
                try "shards:\n  - name: a\n  - name: a\n".write(toFile: repeated, atomically: true, encoding: .utf8)
                let refused = try await command.run(["run"] + arguments.dropFirst().map { $0 == file ? repeated : $0 }, environment: ["S1_API_TOKEN": emulator.token])
                #expect(refused.status == 64)
                #expect(refused.stderr.contains("shard name 'a' is used twice"), "\(refused.stderr)")
            }
        }

        /// `check` of the Kafka checkpoint store with exactly-once on Tansu, which answers DescribeConfigs (the mock
        /// cluster does not): a topic without `cleanup.policy` is named as such, and the transactional id registers.
        @Test(.timeLimit(.minutes(2))) func checkOfTheKafkaCheckpointStoreOnTansu() async throws {
            try await withEmulatorAndBroker(.tansu, threats: 5, topics: [("threats", 3), ("threatpipe.checkpoints", 3)]) { emulator, broker, command in
                let outcome = try await command.run(
                    ["check", "--console-url", emulator.url, "--sink", "kafka", "--kafka-brokers", broker.bootstrapServers,
                     "--kafka-topic", "threats", "--checkpoint-store", "kafka", "--delivery", "exactly-once"],
                    environment: ["S1_API_TOKEN": emulator.token]
                )
                let text = outcome.stdoutText
                #expect(outcome.status == 0, "\(text)\(outcome.stderr)")
                #expect(text.contains("ok    checkpoint topic threatpipe.checkpoints: present, 3 partitions, cleanup.policy is not set on this topic (so: delete)"), "\(text)")
                #expect(text.contains("ok    transactions: the cluster registered transactional id"), "\(text)")
                #expect(text.contains("ok    state topic threatpipe.threat-state: present, 3 partitions, cleanup.policy is not set on this topic (so: delete)"), "\(text)")
                // A missing state topic is one `run` creates; with --no-create-topics it is a configuration error, as
                // `run` says it (InternalTopicSetupTests).
                let missingArguments = ["check", "--console-url", emulator.url, "--sink", "kafka", "--kafka-brokers", broker.bootstrapServers,
                                        "--kafka-topic", "threats", "--checkpoint-store", "kafka", "--state-topic", "no.such.state"]
                let missing = try await command.run(missingArguments, environment: ["S1_API_TOKEN": emulator.token])
                #expect(missing.status == 0, "\(missing.stdoutText)")
                #expect(missing.stdoutText.contains("ok    state topic no.such.state: does not exist: will be created with 3 partitions, cleanup.policy=compact"), "\(missing.stdoutText)")
                let refused = try await command.run(missingArguments + ["--no-create-topics"], environment: ["S1_API_TOKEN": emulator.token])
                #expect(refused.status == 64, "\(refused.stdoutText)")
                #expect(refused.stdoutText.contains("FAIL  state topic no.such.state: the state topic no.such.state does not exist and --no-create-topics is set"), "\(refused.stdoutText)")
                #expect(text.contains("ok    checkpoint size: no checkpoint stored for this instance yet; max.message.bytes is not set on this topic"), "\(text)")
            }
        }

        /// `check` compares this instance's stored checkpoint with the checkpoint topic's `max.message.bytes`: one
        /// that no longer fits could not be saved again (every save would fail), so it is a failure, exit 64, naming
        /// both sizes and the setting that fits every checkpoint. Tansu keeps a topic's configuration (and does not
        /// enforce it, which lets the run store the checkpoint the check then measures).
        @Test(.timeLimit(.minutes(2))) func checkComparesTheStoredCheckpointWithTheTopicsMessageLimit() async throws {
            try await withEmulatorAndBroker(.tansu, threats: 5, topics: [("threats", 1)]) { emulator, broker, command in
                let tansu = try #require(broker as? TansuBroker)
                try tansu.createTopic("small.checkpoints", partitions: 1, configs: ["max.message.bytes=100"])
                try tansu.createTopic(StateTopics.state, partitions: 1)
                let environment = ["S1_API_TOKEN": emulator.token]
                let kafka = ["--console-url", emulator.url, "--sink", "kafka", "--kafka-brokers", broker.bootstrapServers,
                             "--kafka-topic", "threats", "--checkpoint-store", "kafka", "--checkpoint-topic", "small.checkpoints"]
                let before = try await command.run(["check"] + kafka, environment: environment)
                #expect(before.status == 0, "no checkpoint yet: \(before.stdoutText)")
                #expect(before.stdoutText.contains("ok    checkpoint size: no checkpoint stored for this instance yet; max.message.bytes=100; a checkpoint grows"), "\(before.stdoutText)")
                // `check` lists too (its count and token requests): the run's own two passes come after.
                let passes = emulator.api.requestCounts.firstPages
                let run = try command.start(["run"] + kafka + ["--since", "2000-01-01T00:00:00Z", "--interval", "1s"], environment: environment)
                await emulator.api.waitForListPasses(atLeast: passes + 2)
                run.send(SIGTERM)
                #expect(await run.wait().status == 0, "\(command.stderrSoFar)")
                let after = try await command.run(["check"] + kafka, environment: environment)
                #expect(after.status == 64, "\(after.stdoutText)")
                #expect(after.stdoutText.contains("FAIL  checkpoint size: this instance's checkpoint is "), "\(after.stdoutText)")
                #expect(after.stdoutText.contains("bytes, over the topic's max.message.bytes=100: it cannot be saved again; set max.message.bytes=16777216"), "\(after.stdoutText)")
            }
        }

        @Test(.timeLimit(.minutes(2))) func checkPassesWithEverythingUpAndNamesEachBrokenDependency() async throws {
            try await withEmulator(threats: 25) { emulator, command in
                let cluster = try KafkaMockCluster(brokers: 1)
                try cluster.createTopic("threats", partitions: 2, replicationFactor: 1)
                let good = try await command.run(
                    ["check", "--console-url", emulator.url, "--sink", "kafka", "--sink", "ndjson",
                     "--kafka-brokers", cluster.bootstrapServers, "--kafka-topic", "threats", "--output", command.path("out/x.ndjson")],
                    environment: ["S1_API_TOKEN": emulator.token]
                )
                let text = String(decoding: good.stdout, as: UTF8.self)
                #expect(good.status == 0, "\(text)\(good.stderr)")
                for line in ["ok    console reachable", "ok    token accepted", "ok    filters: match 25 threats",
                             "ok    kafka broker", "ok    kafka topic threats: present, 2 partitions", "ok    output"] {
                    #expect(text.contains(line), "\(line) in \(text)")
                }
                #expect(!FileManager.default.fileExists(atPath: command.path("out/x.ndjson")), "the probe leaves no file")

                let bad = try await command.run(
                    ["check", "--console-url", emulator.url, "--sink", "kafka", "--sink", "ndjson",
                     "--kafka-brokers", "\(cluster.bootstrapServers),127.0.0.1:1", "--kafka-topic", "absent",
                     "--output", "/proc/threatpipe/x.ndjson"],
                    environment: ["S1_API_TOKEN": "revoked-token"]
                )
                let badText = String(decoding: bad.stdout, as: UTF8.self)
                #expect(bad.status == 77, "the first failure is the token: \(badText)")
                for line in ["ok    console reachable", "FAIL  token accepted", "skip  filters", "FAIL  kafka broker 127.0.0.1:1",
                             "FAIL  kafka topic absent", "FAIL  output /proc/threatpipe/x.ndjson"] {
                    #expect(badText.contains(line), "\(line) in \(badText)")
                }
                #expect(!badText.contains("revoked-token") && !bad.stderr.contains("revoked-token"))

                let unreachable = try await command.run(["check", "--console-url", "http://127.0.0.1:9"], environment: ["S1_API_TOKEN": "t"])
                #expect(unreachable.status == 69)
                #expect(String(decoding: unreachable.stdout, as: UTF8.self).contains("FAIL  console reachable"))
                withExtendedLifetime(cluster) {}
            }
        }
    
        /// `check` opens the file store as `run` would, writing nothing: a state database of random bytes, or a state
        /// file that is not one, fails `check` with the status `run` exits with on the same files (65).
        @Test(.timeLimit(.minutes(2))) func checkOpensTheFileStoreAndFailsAsRunWould() async throws {
            try await withEmulator(threats: 5) { emulator, command in
                let state = command.path("state/threatpipe-state.json")
                try FileManager.default.createDirectory(atPath: command.path("state"), withIntermediateDirectories: true)
                let config = command.path("threatpipe.yaml")
                try "console-url: \(emulator.url)\nstate: \(state)\n".write(toFile: config, atomically: true, encoding: .utf8)
                let environment = ["S1_API_TOKEN": emulator.token]

                let fresh = try await command.run(["check", "--config", config], environment: environment)
                let freshText = String(decoding: fresh.stdout, as: UTF8.self)
                #expect(fresh.status == 0, "\(freshText)\(fresh.stderr)")
                #expect(freshText.contains("ok    state file \(state): none yet"), "\(freshText)")
                #expect(!FileManager.default.fileExists(atPath: state), "check writes nothing")
                #expect(!FileManager.default.fileExists(atPath: state + ".threats.db"), "check writes nothing")

                // The threats' state database of random bytes.
                var generator = SystemRandomNumberGenerator()
                try Data((0..<8192).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: URL(fileURLWithPath: state + ".threats.db"))
                let corrupt = try await command.run(["check", "--config", config], environment: environment)
                let corruptText = String(decoding: corrupt.stdout, as: UTF8.self)
                #expect(corrupt.status == 65, "\(corruptText)\(corrupt.stderr)")
                #expect(corruptText.contains("FAIL  threat state \(state).threats.db"), "\(corruptText)")
                let run = try await command.run(["run", "--config", config, "--interval", "1s"], environment: environment)
                #expect(run.status == 65, "run exits as check said: \(run.stderr)")
                try FileManager.default.removeItem(atPath: state + ".threats.db")

                // A state file that is not one.
                try "{\"version\":1,\"consoleUrl\":".write(toFile: state, atomically: true, encoding: .utf8)
                let broken = try await command.run(["check", "--config", config], environment: environment)
                let brokenText = String(decoding: broken.stdout, as: UTF8.self)
                #expect(broken.status == 65, "\(brokenText)\(broken.stderr)")
                #expect(brokenText.contains("FAIL  state file \(state)"), "\(brokenText)")
                let runBroken = try await command.run(["run", "--config", config, "--interval", "1s"], environment: environment)
                #expect(runBroken.status == 65, "run exits as check said: \(runBroken.stderr)")
            }
        }
}
}
