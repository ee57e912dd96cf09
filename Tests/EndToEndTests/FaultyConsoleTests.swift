import Emulator
import Foundation
import RawJSON
import TestSupport
import Testing

extension EndToEnd {
    /// `export` against an emulator that throttles, fails, stalls and sends broken answers: retried at the same
    /// request, every record still exact.
    @Suite(.serialized) struct FaultyConsoleTests {
        @Test(arguments: [
            "429@rate=0.1", "429-bare@rate=0.1", "429-date@requests=2,5", "503@rate=0.1", "truncated@rate=0.1", "html@rate=0.1",
            "empty-200@rate=0.1", "slow@requests=1,4,9",
        ])
        func exportRidesThroughTheFault(_ fault: String) async throws {
            let emulator = try await RunningEmulator.start(threats: 120, faults: [fault])
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let outcome = try await command.run(
                ["export", "--console-url", emulator.url, "--page-size", "40", "--events-page-size", "10",
                 "--max-retries", "8", "--request-timeout", "1"],
                environment: ["S1_API_TOKEN": emulator.token]
            )
            await emulator.stop()
            #expect(outcome.status == 0, "\(outcome.stderr)")
            try RecordExpectations.verify(outcome.stdout, against: emulator.api.dataset, expectedCount: 120)
            #expect(outcome.stderr.contains("retrying request"), "the fault was met and retried")
        }

        /// What an operator meets on a bad day, all at once and with the default flags (rate limiter included): a
        /// 429 with `Retry-After` every 5th request, a 503 every 7th, one truncated 200. Every record exact, exit 0,
        /// and the retries counted in the summary.
        @Test func exportWithDefaultFlagsRidesThroughMixedFaults() async throws {
            let emulator = try await RunningEmulator.start(threats: 25, faults: ["429@every=5", "503@every=7", "truncated@requests=3"])
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let outcome = try await command.run(
                ["export", "--console-url", emulator.url, "--rate-limit", "10"],
                environment: ["S1_API_TOKEN": emulator.token]
            )
            await emulator.stop()
            #expect(outcome.status == 0, "\(outcome.stderr)")
            try RecordExpectations.verify(outcome.stdout, against: emulator.api.dataset, expectedCount: 25)
            let faulted = emulator.api.requestCounts.total / 5 + emulator.api.requestCounts.total / 7
            #expect(faulted >= 10)
            #expect(outcome.stderr.contains("retries"), "\(outcome.stderr)")
            #expect(!outcome.stderr.contains(" 0 retries"), "\(outcome.stderr)")
        }

        @Test func enrichmentFailureIsEmittedOrFailsTheExportAsAsked() async throws {
            for policy in ["emit", "fail"] {
                // Request 1 is the list page; 2 onwards are enrichment: three 503s in a row exhaust two retries.
                let emulator = try await RunningEmulator.start(threats: 3, faults: ["503@requests=2,3,4,5,6,7"])
                let command = try ThreatpipeCommand()
                defer { command.cleanUp() }
                let outcome = try await command.run(
                    ["export", "--console-url", emulator.url, "--max-retries", "0", "--concurrency", "1",
                     "--on-enrichment-error", policy],
                    environment: ["S1_API_TOKEN": emulator.token]
                )
                await emulator.stop()
                if policy == "emit" {
                    #expect(outcome.status == 0, "\(outcome.stderr)")
                    let records = try RecordExpectations.lines(outcome.stdout).map { try JSONValue.parse($0) }
                    #expect(records.count == 3)
                    let failed = records.filter { $0["meta"]?["analysis"]?["status"] == "failed" || $0["meta"]?["events"]?["status"] == "failed" }
                    #expect(!failed.isEmpty)
                    #expect(failed.allSatisfy { $0["meta"]?["analysis"]?["status"] != "failed" || $0["analysis"] == .null })
                } else {
                    #expect(outcome.status == 69, "\(outcome.stderr)")
                    #expect(outcome.stderr.contains("could not be fetched"), "\(outcome.stderr)")
                }
            }
        }
    }
}
