import Emulator
import Foundation
import RawJSON
import TestSupport
import Testing

extension EndToEnd {
    /// What a hostile console, a careless operator or a broken setting can do: each gets a clear error and a
    /// documented exit status, never a crash, a hang, an invalid record or a leaked secret.
    @Suite(.serialized) struct HostileInputTests {
        private func export(
            _ emulator: RunningEmulator,
            _ command: ThreatpipeCommand,
            _ extra: [String] = [],
            environment: [String: String] = [:]
        ) async throws -> ThreatpipeCommand.Outcome {
            try await command.run(
                ["export", "--console-url", emulator.url, "--max-retries", "0"] + extra,
                environment: ["S1_API_TOKEN": emulator.token].merging(environment) { $1 }
            )
        }

        /// A `data` member twice in an answer's envelope: in the list, a protocol error (exit 76); in an analysis,
        /// that part failed — never a record with two values spliced into it.
        @Test(.timeLimit(.minutes(2))) func duplicateDataKeyIsAProtocolErrorNeverAnInvalidRecord() async throws {
            let listed = try await RunningEmulator.start(threats: 20, faults: ["duplicate-data@requests=1"])
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let list = try await export(listed, command)
            await listed.stop()
            #expect(list.status == 76, "\(list.stderr)")
            #expect(list.stderr.contains("data twice"), "\(list.stderr)")

            let enriched = try await RunningEmulator.start(threats: 20, faults: ["duplicate-data@every=3"])
            let outcome = try await export(enriched, command, ["--concurrency", "1"])
            await enriched.stop()
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let records = try RecordExpectations.lines(outcome.stdout).map { try JSONValue.parse($0) }
            #expect(records.count == 20, "every line is one valid record")
            let failed = records.filter {
                $0["meta"]?["analysis"]?["status"] == "failed" || $0["meta"]?["events"]?["status"] == "failed"
            }
            #expect(!failed.isEmpty)
        }

        /// Cursors that lead back to an earlier page (A→B→A): the list is a protocol error that ends the export
        /// (exit 76); a threat's events end with that part failed, the other threats complete.
        @Test(.timeLimit(.minutes(2))) func cursorCyclesEndTheirPass() async throws {
            let listed = try await RunningEmulator.start(threats: 50, faults: ["cursor-cycle"])
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let list = try await export(listed, command, ["--page-size", "5"])
            let listRequests = listed.api.requestCounts.threats
            await listed.stop()
            #expect(list.status == 76, "\(list.stderr)")
            #expect(list.stderr.contains("cycle"), "\(list.stderr)")
            #expect(listRequests <= 4, "no page was fetched after the cycle showed: \(listRequests)")

            let events = try await RunningEmulator.start(threats: 30, faults: ["events-cursor-cycle"])
            let outcome = try await export(events, command, ["--events-page-size", "1"])
            let dataset = events.api.dataset
            await events.stop()
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let records = try RecordExpectations.lines(outcome.stdout).map { try JSONValue.parse($0) }
            #expect(records.count == 30)
            for record in records {
                let id = try #require(record["threat"]?["id"]?.stringValue)
                let index = try #require(dataset.index(ofID: id))
                let status = record["meta"]?["events"]?["status"]?.stringValue
                if dataset.isDeleted(at: index) {
                    #expect(status == "not_found")
                } else if dataset.eventCount(at: index) > 2 {
                    #expect(status == "failed", "threat \(id) with \(dataset.eventCount(at: index)) events")
                    #expect(record["meta"]?["events"]?["error"]?.stringValue?.contains("cycle") == true, "\(record["meta"] ?? .null)")
                } else {
                    #expect(status == "fetched", "threat \(id) with \(dataset.eventCount(at: index)) events")
                }
            }
        }

        /// A proxy URL with a password and the wrong scheme is refused without printing the password.
        @Test(.timeLimit(.minutes(1))) func proxyPasswordIsNeverPrinted() async throws {
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            for subcommand in ["export", "check"] {
                let outcome = try await command.run(
                    [subcommand, "--console-url", "https://console.threatpipe.invalid"],
                    environment: ["S1_API_TOKEN": "t", "HTTPS_PROXY": "https://user:s3cr3t-pw@proxy.invalid:3128"]
                )
                #expect(outcome.status != 0)
                #expect(!outcome.stderr.contains("s3cr3t-pw") && !outcome.stdoutText.contains("s3cr3t-pw"), "\(outcome.stderr)")
                #expect((outcome.stderr + outcome.stdoutText).contains("http:// proxy"), "\(outcome.stderr)")
            }
        }

        /// Absurd numbers are usage errors (exit 64) that say the range, never a trap; a secret given as a
        /// librdkafka property value is refused with a pointer to the file option.
        @Test(.timeLimit(.minutes(2))) func absurdFlagValuesAreUsageErrors() async throws {
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let console = ["--console-url", "http://127.0.0.1:9"]
            let cases: [([String], String)] = [
                (["export", "--rate-limit", "1", "--"], "console URL"),
                (["export", "--since", "10000000000000"] + console, "36500d"),
                (["export", "--since", "999999999999999999d"] + console, "36500d"),
                (["export", "--until=-5"] + console, "36500d"),
                (["export", "--output", command.path("x.ndjson"), "--rotate-size", "99999999999999G"] + console, "1024G"),
                (["export", "--sink", "kafka", "--kafka-brokers", "127.0.0.1:9", "--kafka-topic", "t", "--kafka-flush-timeout", "9999999999999999"] + console, "86400"),
                (["export", "--request-timeout", "99999999999"] + console, "1…3600"),
                (["export", "--max-retry-wait", "99999999999"] + console, "0…86400"),
                (["export", "--rate-limit", "1e300"] + console, "10000"),
                (["export", "--rate-limit", "nan"] + console, "10000"),
                (["run", "--interval", "99999999999999d"] + console, "36500d"),
                (["run", "--overlap", "2h"] + console, "1h"),
                (["run", "--output", command.path("x.ndjson"), "--rotate-interval", "0s"] + console, "1s"),
                (["emulator", "--latency-ms", "99999999999"], "600000"),
                (["export", "--sink", "kafka", "--kafka-brokers", "127.0.0.1:9", "--kafka-topic", "t", "--kafka-property", "sasl.password=hunter2"] + console,
                 "--kafka-sasl-password-file"),
                (["export", "--sink", "kafka", "--kafka-brokers", "127.0.0.1:9", "--kafka-topic", "t", "--kafka-property", "ssl.key.password=hunter2"] + console,
                 "--kafka-property-file"),
            ]
            for (arguments, range) in cases {
                let outcome = try await command.run(arguments, environment: ["S1_API_TOKEN": "t"])
                #expect(outcome.status == 64, "\(arguments): \(outcome.status) \(outcome.stderr)")
                #expect(outcome.stderr.contains(range), "\(arguments): \(outcome.stderr)")
                #expect(!outcome.stderr.contains("hunter2"), "\(outcome.stderr)")
            }
            let fromEnvironment = try await command.run(
                ["export", "--sink", "kafka", "--kafka-brokers", "127.0.0.1:9", "--kafka-topic", "t"] + console,
                environment: ["S1_API_TOKEN": "t", "THREATPIPE_KAFKA_PROPERTY": "sasl.password=hunter2"]
            )
            #expect(fromEnvironment.status == 64, "\(fromEnvironment.stderr)")
            #expect(!fromEnvironment.stderr.contains("hunter2"), "\(fromEnvironment.stderr)")
        }

        /// A token an HTTP header cannot carry (a control byte, DEL), from a file or the environment: refused before
        /// any request with exit 64, never retried, never printed. A token file that is huge, a FIFO or a device is
        /// refused before it is read.
        @Test(.timeLimit(.minutes(2))) func aTokenAHeaderCannotCarryIsRefusedUnreadAndUnprinted() async throws {
            try await withEmulator(threats: 3) { emulator, command in
                let withControl = command.path("token-control")
                try Data("Secret-Token-42\u{01}\n".utf8).write(to: URL(fileURLWithPath: withControl))
                let huge = command.path("token-huge")
                FileManager.default.createFile(atPath: huge, contents: nil)
                try FileHandle(forWritingAtPath: huge)!.truncate(atOffset: 200 << 20)
                let fifo = command.path("token-fifo")
                #expect(mkfifo(fifo, 0o600) == 0)
                let cases: [(arguments: [String], environment: [String: String], message: String)] = [
                    (["--api-token-file", withControl], [:], "the token contains characters an HTTP header cannot carry"),
                    ([], ["S1_API_TOKEN": "Secret-Token-42\u{7f}"], "S1_API_TOKEN: the token contains characters an HTTP header cannot carry"),
                    (["--api-token-file", huge], [:], "a token file is at most 16384"),
                    (["--api-token-file", fifo], [:], "is not a regular file"),
                ]
                for (arguments, environment, message) in cases {
                    for verb in ["export", "run", "check"] {
                        let outcome = try await command.run(
                            [verb, "--console-url", emulator.url] + arguments + (verb == "run" ? ["--state", command.path("state.json")] : []),
                            environment: environment
                        )
                        #expect(outcome.status == 64, "\(verb) \(arguments): \(outcome.stderr)")
                        #expect(outcome.stderr.contains(message) || outcome.stdoutText.contains(message), "\(verb): \(outcome.stderr)\(outcome.stdoutText)")
                        #expect(!outcome.stderr.contains("Secret-Token") && !outcome.stdoutText.contains("Secret-Token"), "\(outcome.stderr)")
                        #expect(outcome.elapsed < .seconds(10), "\(verb) took \(outcome.elapsed)")
                    }
                }
                #expect(emulator.api.requestCounts.total == 0, "no request was made")
            }
        }
    
        /// `audit` under hostile input: an inverted window is a usage error, never "complete"; `/dev/zero` is a line
        /// too long (exit 64, naming the file and the offset) in bounded memory; a FIFO no one writes is stopped by
        /// one SIGTERM at once (exit 75).
        @Test(.timeLimit(.minutes(2))) func auditRefusesAnEmptyWindowAnEndlessLineAndStopsOnASignal() async throws {
            try await withEmulator(threats: 5) { emulator, command in
                let environment = ["S1_API_TOKEN": emulator.token]
                let base = ["audit", "--console-url", emulator.url, "--settle", "0s"]
                for window in [["--since", "2026-01-02T00:00:00Z", "--until", "2026-01-01T00:00:00Z"], ["--created-since", "1h", "--created-until", "2h"]] {
                    let outcome = try await command.run(base + window + ["--from-ndjson", "/dev/null"], environment: environment)
                    #expect(outcome.status == 64, "\(window): \(outcome.stderr)")
                    #expect(outcome.stderr.contains("the window is empty"), "\(outcome.stderr)")
                }
                #expect(emulator.api.requestCounts.total == 0)
                let zero = try await command.run(base + ["--from-ndjson", "/dev/zero"], environment: environment)
                #expect(zero.status == 64, "\(zero.stderr)")
                #expect(zero.stderr.contains("/dev/zero: the line at offset 0 is longer than 67108864 bytes"), "\(zero.stderr)")
                // Bounded: one line of at most 64 MiB, growing (it took 16.8 GB before the bound).
                #expect(zero.peakMemoryKiB < 700_000, "peak \(zero.peakMemoryKiB) KiB")
                let fifo = command.path("records.fifo")
                #expect(mkfifo(fifo, 0o600) == 0)
                let passes = emulator.api.requestCounts.firstPages
                let audit = try command.start(base + ["--from-ndjson", fifo], environment: environment)
                await emulator.api.waitForListPasses(atLeast: passes + 1)
                let signalled = ContinuousClock.now
                audit.send(SIGTERM)
                let result = await audit.wait()
                #expect(result.status == 75, "\(command.stderrSoFar)")
                #expect(ContinuousClock.now - signalled < .seconds(3), "stopped after \(ContinuousClock.now - signalled)")
            }
        }
    
        /// A stop ends every wait for a rate-limit token at once: `run --rate-limit 1` stops within seconds (it ran
        /// past 120 s and wrote 54 records after SIGTERM) and what it withdrew is delivered by the next run;
        /// `export --rate-limit 0.0001` stops on SIGINT with exit 75 (it hung).
        @Test(.timeLimit(.minutes(2))) func aStopEndsTheWaitsForTheRateLimiter() async throws {
            try await withEmulator(threats: 30) { emulator, command in
                let environment = ["S1_API_TOKEN": emulator.token]
                let run = ["run", "--console-url", emulator.url, "--sink", "ndjson", "--output", command.path("out.ndjson"),
                           "--state", command.path("state.json"), "--since", "2000-01-01T00:00:00Z", "--concurrency", "4", "--interval", "1s"]
                let slow = try command.start(run + ["--rate-limit", "1"], environment: environment)
                await emulator.api.waitForRequests(atLeast: 4)
                let signalled = ContinuousClock.now
                slow.send(SIGTERM)
                let stopped = await slow.wait()
                #expect(stopped.status == 0, "\(command.stderrSoFar)")
                #expect(ContinuousClock.now - signalled < .seconds(3), "stopped after \(ContinuousClock.now - signalled)")
                let first = RecordExpectations.lines(FileManager.default.contents(atPath: command.path("out.ndjson")) ?? Data())
                #expect(first.count < 30, "the slow run cannot have delivered everything: \(first.count)")
                // The next run, unpaced, delivers what the stop withdrew: nothing is lost.
                let fast = try command.start(run + ["--rate-limit", "0"], environment: environment)
                let passes = emulator.api.requestCounts.firstPages
                await emulator.api.waitForListPasses(atLeast: passes + 2)
                fast.send(SIGTERM)
                #expect(await fast.wait().status == 0, "\(command.stderrSoFar)")
                let all = RecordExpectations.lines(FileManager.default.contents(atPath: command.path("out.ndjson")) ?? Data())
                let ids = try Set(all.map { try #require(JSONValue.parse($0)["meta"]?["threatId"]?.stringValue) })
                #expect(ids.count == 30, "delivered \(ids.count) of 30 threats over both runs")

                let export = try command.start(
                    ["export", "--console-url", emulator.url, "--rate-limit", "0.0001", "--sink", "ndjson", "--output", command.path("export.ndjson")],
                    environment: environment
                )
                let listed = emulator.api.requestCounts.threats
                await emulator.api.waitForRequests(atLeast: emulator.api.requestCounts.total + 1)
                #expect(emulator.api.requestCounts.threats == listed + 1, "the export's first request is its first page")
                let interrupted = ContinuousClock.now
                export.send(SIGINT)
                let result = await export.wait()
                #expect(result.status == 75, "\(command.stderrSoFar)")
                #expect(ContinuousClock.now - interrupted < .seconds(3), "stopped after \(ContinuousClock.now - interrupted)")
            }
        }

        /// Many filters cost linear time, from flags, the environment or the file: 8,000 take less than eight times
        /// what 2,000 take (quadratically, sixteen: 10,000 took 15–19 s); a configuration file over 4 MiB is refused
        /// before it is read.
        @Test(.timeLimit(.minutes(2))) func manyFiltersAreLinearAndTheConfigurationFileIsBounded() async throws {
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            func elapsed(_ count: Int, _ how: String) async throws -> Duration {
                let values = (0..<count).map { "siteIds=\($0)" }
                var arguments = ["export", "--console-url", "http://127.0.0.1:9", "--max-retries", "0"]
                var environment = ["S1_API_TOKEN": "t"]
                switch how {
                case "flags": arguments += values.flatMap { ["--filter", $0] }
                case "environment": environment["THREATPIPE_FILTER"] = values.joined(separator: ";")
                default:
                    let file = command.path("filters-\(count).yaml")
                    try ("filter:\n" + values.map { "  - \($0)\n" }.joined()).write(toFile: file, atomically: true, encoding: .utf8)
                    arguments += ["--config", file]
                }
                let outcome = try await command.run(arguments, environment: environment)
                #expect(outcome.status == 69, "\(how): \(outcome.stderr.prefix(300))")
                return outcome.elapsed
            }
            for how in ["flags", "environment", "file"] {
                let few = try await elapsed(2_000, how), many = try await elapsed(8_000, how)
                #expect(many < few * 8, "\(how): 2,000 filters in \(few), 8,000 in \(many)")
            }
            let large = command.path("large.yaml")
            try ("# " + String(repeating: "x", count: 5 << 20) + "\n").write(toFile: large, atomically: true, encoding: .utf8)
            let refused = try await command.run(["export", "--config", large], environment: ["S1_API_TOKEN": "t"])
            #expect(refused.status == 64, "\(refused.stderr)")
            #expect(refused.stderr.contains("at most 4194304 are read"), "\(refused.stderr)")
        }
    }
}
