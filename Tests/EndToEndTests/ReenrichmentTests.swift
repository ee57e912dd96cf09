import Foundation
import RawJSON
import TestSupport
import Testing
import Emulator

extension EndToEnd {
    /// `run` enriches again, on later polls, the records whose analysis or events failed: the final output holds a
    /// complete record of every version, the later ones saying `meta.reenriched`.
    @Suite(.serialized) struct ReenrichmentTests {
        @Test(.timeLimit(.minutes(2))) func recordsWhoseEnrichmentFailedAreCompletedOnLaterPolls() async throws {
            // Three enrichment requests of the first poll fail, with no retry left.
            try await withEmulator(threats: 60, faults: ["503@requests=5,9,13"]) { emulator, command in
                let output = command.path("out.ndjson")
                let state = command.path("state.json")
                let run = try command.start(
                    ["run", "--console-url", emulator.url, "--output", output, "--state", state, "--interval", "1s",
                     "--since", "2020-01-01T00:00:00Z", "--max-retries", "0"],
                    environment: ["S1_API_TOKEN": emulator.token]
                )
                // The first poll, a second one (the re-enrichment is not due before one interval), then two more.
                await emulator.api.waitForListPasses(atLeast: 5)
                run.send(SIGTERM)
                #expect(await run.wait().status == 0, "\(command.stderrSoFar)")
                let records = try RecordExpectations.lines(try Data(contentsOf: URL(fileURLWithPath: output))).map { try JSONValue.parse($0) }
                func failed(_ record: JSONValue) -> Bool {
                    ["analysis", "events"].contains { record["meta"]?[$0]?["status"]?.stringValue == "failed" }
                }
                let incomplete = records.filter(failed)
                let reenriched = records.filter { $0["meta"]?["reenriched"] != nil }
                // Three failed requests are two or three records: the order of concurrent requests decides whether two
                // of them were one threat's analysis and events (a make test run saw two).
                #expect((2...3).contains(incomplete.count), "the faults made \(incomplete.count) records incomplete")
                #expect(reenriched.count == incomplete.count)
                #expect(reenriched.allSatisfy { $0["meta"]?["reenriched"]?["attempt"] == .number("1") && !failed($0) })
                #expect(Set(reenriched.compactMap { $0["meta"]?["versionId"]?.stringValue }) == Set(incomplete.compactMap { $0["meta"]?["versionId"]?.stringValue }))
                // Every version has a complete record, and nothing is left to re-enrich in the state.
                let complete = Set(records.filter { !failed($0) }.compactMap { $0["meta"]?["versionId"]?.stringValue })
                #expect(complete.count == 60)
                let saved = try String(contentsOfFile: state, encoding: .utf8)
                #expect(!saved.contains("pendingEnrichment"), "\(saved)")
            }
        }
    }
}
