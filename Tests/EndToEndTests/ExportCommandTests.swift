import Emulator
import Foundation
import RawJSON
import TestSupport
import Testing

extension EndToEnd {
    /// `threatpipe export` run as a process against the emulator on loopback, the way a user runs it.
    @Suite(.serialized) struct ExportCommandTests {
        static let schemaPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../schemas/enriched-threat.schema.json").standardized.path
        static let validatorPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Support/validate_records.py").standardized.path

        @Test func exportsEveryThreatOnceWithItsPartsUnchangedToStdoutAndNDJSON() async throws {
            try await withEmulator(threats: 3000) { emulator, command in
                let output = command.path("nested/dir/threats.ndjson")
                let outcome = try await command.run(
                    ["export", "--console-url", emulator.url, "--sink", "stdout", "--sink", "ndjson", "--output", output,
                     "--page-size", "250", "--events-page-size", "10", "--concurrency", "16"],
                    environment: ["S1_API_TOKEN": emulator.token]
                )
                #expect(outcome.status == 0, "\(outcome.stderr)")
                let file = try Data(contentsOf: URL(fileURLWithPath: output))
                #expect(file == outcome.stdout, "both sinks got the same records")
                try RecordExpectations.verify(file, against: emulator.api.dataset, expectedCount: 3000)
                #expect(outcome.stderr.contains("exported 3000 threats"))
                #expect(!outcome.stderr.contains(emulator.token) && !outcome.stdoutText.contains(emulator.token))

                // Two requests per threat plus extra event pages and list pages; nothing asked twice.
                let dataset = emulator.api.dataset
                let eventPages = (0..<3000).reduce(0) { total, index in
                    total + (dataset.isDeleted(at: index) ? 1 : max(1, (dataset.eventCount(at: index) + 9) / 10))
                }
                #expect(emulator.api.requestCounts == RequestCounts(threats: 12, analysis: 3000, events: eventPages, firstPages: 1))

                let validation = try await ChildProcess.run(
                    "/usr/bin/env", ["python3", Self.validatorPath, Self.schemaPath, output],
                    environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"],
                    stdoutPath: command.path("validation.out"), stderrPath: command.path("validation.err")
                )
                let report = (try? String(contentsOfFile: command.path("validation.out"), encoding: .utf8)) ?? ""
                let problems = (try? String(contentsOfFile: command.path("validation.err"), encoding: .utf8)) ?? ""
                #expect(validation.status == 0, "schema validation: \(report) \(problems)")
                #expect(report.contains("3000 records valid"))
            }
        }

        @Test func ndjsonAppendsAcrossRunsAndTokenFileWorks() async throws {
            try await withEmulator(threats: 40) { emulator, command in
                let tokenFile = command.path("token")
                try (emulator.token + "\n").write(toFile: tokenFile, atomically: true, encoding: .utf8)
                let output = command.path("out.ndjson")
                for _ in 0..<2 {
                    let outcome = try await command.run(
                        ["export", "--console-url", emulator.url + "/", "--api-token-file", tokenFile, "--output", output]
                    )
                    #expect(outcome.status == 0, "\(outcome.stderr)")
                    #expect(outcome.stdout.isEmpty, "--output alone writes the file only")
                }
                let lines = RecordExpectations.lines(try Data(contentsOf: URL(fileURLWithPath: output)))
                #expect(lines.count == 80)
            }
        }

        @Test func maxEventsTruncatesAndSaysHowManyExist() async throws {
            try await withEmulator(threats: 10) { emulator, command in
                let dataset = emulator.api.dataset
                let outcome = try await command.run(
                    ["export", "--console-url", emulator.url, "--max-events", "3", "--events-page-size", "2",
                     "--filter", "ids=\(dataset.id(at: 5)),\(dataset.id(at: 3))"],
                    environment: ["S1_API_TOKEN": emulator.token]
                )
                #expect(outcome.status == 0, "\(outcome.stderr)")
                let records = try RecordExpectations.lines(outcome.stdout).map { try JSONValue.parse($0) }
                #expect(records.count == 2)
                for record in records {
                    let id = try #require(record["meta"]?["threatId"]?.stringValue)
                    let index = try #require(dataset.index(ofID: id))
                    let total = dataset.eventCount(at: index)
                    #expect(record["meta"]?["events"] == [
                        "status": "fetched", "count": .number(String(min(3, total))),
                        "totalItems": .number(String(total)), "truncated": .bool(total > 3),
                    ])
                    #expect(record["events"]?.arrayValue?.count == min(3, total))
                }
            }
        }

        @Test func sinceAndUntilBoundUpdatedAtForBackfills() async throws {
            try await withEmulator(threats: 300) { emulator, command in
                let since = try #require(RFC3339Timestamp("2026-01-04T00:00:00Z"))
                let until = try #require(RFC3339Timestamp("2026-01-06T12:00:00Z"))
                let outcome = try await command.run(
                    ["export", "--console-url", emulator.url, "--since", since.description, "--until", until.description],
                    environment: ["S1_API_TOKEN": emulator.token]
                )
                #expect(outcome.status == 0, "\(outcome.stderr)")
                let dataset = emulator.api.dataset
                let expected = Set((0..<300).filter { since <= dataset.updatedAt(at: $0) && dataset.updatedAt(at: $0) < until }.map { dataset.id(at: $0) })
                #expect(!expected.isEmpty && expected.count < 300)
                let records = try RecordExpectations.verify(outcome.stdout, against: dataset, expectedCount: expected.count)
                #expect(Set(records.keys) == expected)
            }
        }

        @Test func wrongTokenExitsWithOneClearLineAndNoRecords() async throws {
            try await withEmulator(threats: 10) { emulator, command in
                let outcome = try await command.run(
                    ["export", "--console-url", emulator.url], environment: ["S1_API_TOKEN": "not-the-token-xyz"]
                )
                #expect(outcome.status == 77)
                #expect(outcome.stdout.isEmpty)
                #expect(outcome.stderr.contains("rejected the API token (HTTP 401)"), "\(outcome.stderr)")
                #expect(!outcome.stderr.contains("not-the-token-xyz"))
                #expect(outcome.stderr.split(separator: "\n").count == 1, "\(outcome.stderr)")
            }
        }

        @Test(arguments: [
            (["--filter", "siteId=1"], [:], "did you mean 'siteIds'?"),
            (["--filter", "resolved=maybe"], [:], "takes true or false"),
            (["--page-size", "1001"], [:], "--page-size is 1…1000"),
            (["--sink", "ndjson"], [:], "--sink ndjson needs --output"),
            ([], ["S1_API_TOKEN": ""], "S1_API_TOKEN is empty"),
            ([], ["S1_API_TOKEN": nil], "no API token"),
            (["--api-token-file", "/nonexistent/token"], ["S1_API_TOKEN": nil], "cannot read the API token file"),
        ] as [([String], [String: String?], String)])
        func badUsageExits64BeforeAnyRequest(_ extra: [String], _ environment: [String: String?], _ message: String) async throws {
            try await withEmulator(threats: 10) { emulator, command in
                var env = ["S1_API_TOKEN": emulator.token]
                for (name, value) in environment { env[name] = value }
                let outcome = try await command.run(["export", "--console-url", emulator.url] + extra, environment: env)
                #expect(outcome.status == 64, "\(outcome.stderr)")
                #expect(outcome.stderr.contains(message), "\(outcome.stderr)")
                #expect(emulator.api.requestCounts.total == 0)
            }
        }

        @Test(arguments: ["ftp://console", "no-scheme.example", "http://host:70000"])
        func badConsoleURLExits64(_ url: String) async throws {
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let outcome = try await command.run(["export", "--console-url", url], environment: ["S1_API_TOKEN": "t"])
            #expect(outcome.status == 64)
            #expect(outcome.stderr.contains("invalid console URL"), "\(outcome.stderr)")
        }

        /// With the default flags a refused connection is retried for at most --max-retry-wait (20 s) of backoff and
        /// connection attempts: the export gives up in a bounded, documented time, not never, and not at once.
        @Test func unreachableConsoleExits69InBoundedTime() async throws {
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let outcome = try await command.run(
                ["export", "--console-url", "http://127.0.0.1:9"], environment: ["S1_API_TOKEN": "t"]
            )
            #expect(outcome.status == 69, "\(outcome.stderr)")
            #expect(outcome.stderr.contains("GET http://127.0.0.1:9/web/api/v2.1/threats"), "\(outcome.stderr)")
            #expect(outcome.stderr.contains("connection refused"), "\(outcome.stderr)")
            #expect(outcome.elapsed < .seconds(30), "documented: about 20 s")
            #expect(outcome.elapsed > .seconds(5), "retried with backoff, not given up at once")
        }

        @Test func unwritableOutputExits74() async throws {
            try await withEmulator(threats: 5) { emulator, command in
                try Data().write(to: URL(fileURLWithPath: command.path("afile")))
                let outcome = try await command.run(
                    ["export", "--console-url", emulator.url, "--output", command.path("afile/out.ndjson")],
                    environment: ["S1_API_TOKEN": emulator.token]
                )
                #expect(outcome.status == 74, "\(outcome.stderr)")
                #expect(emulator.api.requestCounts.total == 0, "sinks are opened before the first request")
            }
        }
    }
}
