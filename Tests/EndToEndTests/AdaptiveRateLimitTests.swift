import Foundation
import TestSupport
import Testing
import Emulator

extension EndToEnd {
    /// `--rate-limit auto` against a console that answers 429 beyond 20 requests a second: everything is exported,
    /// few requests are refused, and the summary says the rate reached.
    @Suite(.serialized) struct AdaptiveRateLimitTests {
        @Test(.timeLimit(.minutes(2))) func autoFindsTheConsolesLimitWithFewRefusals() async throws {
            try await withEmulator(threats: 120, faults: ["limit=20"]) { emulator, command in
                let outcome = try await command.run(
                    ["export", "--console-url", emulator.url, "--rate-limit", "auto:40", "--output", command.path("out.ndjson")],
                    environment: ["S1_API_TOKEN": emulator.token]
                )
                #expect(outcome.status == 0, "\(outcome.stderr)")
                let lines = try String(contentsOfFile: command.path("out.ndjson"), encoding: .utf8).split(separator: "\n")
                #expect(lines.count == 120)
                let counts = emulator.api.requestCounts
                #expect(Double(counts.throttled) / Double(counts.total + counts.throttled) <= 0.05, "\(counts.throttled) of \(counts.total + counts.throttled) refused")
                let text = try #require(outcome.stderr.firstMatch(of: /rate-limit auto at ([0-9.]+)\/s/)?.1)
                let rate = try #require(Double(text))
                #expect(rate > 10 && rate <= 40, "\(outcome.stderr)")
            }
        }
    }
}
