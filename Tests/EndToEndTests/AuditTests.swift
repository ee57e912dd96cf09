import Emulator
import Foundation
import Kafka
import RawJSON
import TestSupport
import Testing

extension EndToEnd {
    /// `threatpipe audit` against the emulator: a delivered side that lost records on purpose, enrichment that
    /// failed for some threats, threats updated and deleted since — the audit names exactly those, `--repair` sends
    /// exactly them again, and a second audit finds nothing.
    @Suite(.serialized) struct AuditTests {
        /// The audit's `--format json` answer.
        struct Answer {
            var summary: JSONValue
            var missing: Set<String>
            var stale: Set<String>
            var incomplete: Set<String>
            var deletedUpstream: Set<String>

            init(_ outcome: ThreatpipeCommand.Outcome) throws {
                let value = try JSONValue.parse(Array(outcome.stdout))
                func ids(_ key: String) -> Set<String> { Set(value[key]?.arrayValue?.compactMap(\.stringValue) ?? []) }
                summary = try #require(value["summary"])
                missing = ids("missing")
                stale = ids("stale")
                incomplete = ids("incomplete")
                deletedUpstream = ids("deletedUpstream")
            }

            func count(_ key: String) -> Int? {
                guard case .number(let text)? = summary[key] else { return nil }
                return Int(text)
            }
        }

        @Test(.timeLimit(.minutes(3))) func anAuditNamesExactlyWhatWasLostAndARepairSendsExactlyThat() async throws {
            // Requests 10, 20 and 30 (enrichment: the one list page is request 1) fail with no retry left.
            try await withEmulator(threats: 250, faults: ["503@requests=10,20,30"]) { emulator, command in
                let output = command.path("out.ndjson")
                let environment = ["S1_API_TOKEN": emulator.token]
                let export = try await command.run(["export", "--console-url", emulator.url, "--output", output, "--max-retries", "0"], environment: environment)
                #expect(export.status == 0, "\(export.stderr)")
                // What the sink holds: 250 records, three of them with a failed part; four lines are then lost.
                var lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
                #expect(lines.count == 250)
                func id(_ line: String) throws -> String { try #require(JSONValue.parse(Array(line.utf8))["meta"]?["threatId"]?.stringValue) }
                let failed = try Set(lines.filter { $0.contains(#""status":"failed""#) }.map(id))
                // Three failed parts; two of them may be one threat's analysis and events (the order of the
                // concurrent enrichment requests decides which requests are 10, 20 and 30).
                let failedParts = lines.map { $0.components(separatedBy: #""status":"failed""#).count - 1 }.reduce(0, +)
                #expect(failedParts == 3 && (2...3).contains(failed.count), "three enrichments failed: \(failedParts) parts of \(failed.count) threats")
                let lost = try Set([3, 99, 100, 248].map { try id(lines[$0]) })
                lines = lines.enumerated().filter { ![3, 99, 100, 248].contains($0.offset) }.map(\.element)
                try (lines.joined(separator: "\n") + "\n").write(toFile: output, atomically: true, encoding: .utf8)
                // The console moves on: five threats updated, two delivered ones deleted.
                let dataset = emulator.api.dataset
                let before = (0..<dataset.count).map { emulator.api.updatedAt(at: $0) }
                emulator.api.change(added: 0, updated: 5, now: .now)
                let updated = Set((0..<dataset.count).filter { emulator.api.updatedAt(at: $0) != before[$0] }.map { dataset.id(at: $0) })
                #expect(updated.count == 5)
                let gone = (0..<dataset.count).filter {
                    let id = dataset.id(at: $0)
                    return !lost.contains(id) && !updated.contains(id) && !failed.contains(id)
                }.prefix(2)
                emulator.api.delete(at: Array(gone))
                let deleted = Set(gone.map { dataset.id(at: $0) })
                emulator.api.freeze()

                // Small pages: the listing crosses many page boundaries, with threats sharing an updatedAt.
                let audit = ["audit", "--console-url", emulator.url, "--from-ndjson", output, "--page-size", "7", "--format", "json"]
                let outcome = try await command.run(audit + ["--settle", "0s"], environment: environment)
                #expect(outcome.status == 1, "\(outcome.stderr)")
                let answer = try Answer(outcome)
                #expect(answer.missing == lost.subtracting(deleted))
                #expect(answer.stale == updated.subtracting(lost))
                #expect(answer.incomplete == failed.subtracting(updated).subtracting(lost))
                #expect(answer.deletedUpstream == deleted)
                #expect(answer.count("listed") == 248)
                // Threats updated within the settle time are left out, not called stale.
                let settled = try Answer(try await command.run(audit, environment: environment))
                #expect(settled.stale.isEmpty && settled.count("settling") == 5, "\(settled.summary)")

                let repair = try await command.run(audit + ["--settle", "0s", "--repair", "--output", output], environment: environment)
                #expect(repair.status == 0, "\(repair.stderr)")
                #expect(repair.stderr.contains("repair sent \(answer.missing.count + answer.stale.count + answer.incomplete.count) threats again"), "\(repair.stderr)")
                let again = try await command.run(audit + ["--settle", "0s"], environment: environment)
                #expect(again.status == 0, "\(again.stderr)\(again.stdoutText)")
                let clean = try Answer(again)
                #expect(clean.missing.isEmpty && clean.stale.isEmpty && clean.incomplete.isEmpty)
                #expect(clean.deletedUpstream == deleted, "deleted threats are reported, not repaired")
                let text = try await command.run(["audit", "--console-url", emulator.url, "--from-ndjson", output, "--settle", "0s", "--by", "site"], environment: environment)
                #expect(text.status == 0)
                #expect(text.stdoutText.contains("deleted upstream") && text.stdoutText.contains(ThreatDataset.siteIDs[0]), "\(text.stdoutText)")
            }
        }

        @Test(.timeLimit(.minutes(3)), arguments: Broker.allCases)
        func anAuditOfAKafkaTopicReadsCommittedRecordsAndARepairCompletesIt(_ kind: Broker) async throws {
            try await withEmulatorAndBroker(kind, threats: 120) { emulator, cluster, command in
                let environment = ["S1_API_TOKEN": emulator.token]
                let kafka = ["--kafka-brokers", cluster.bootstrapServers, "--kafka-topic", "threats"]
                // A partial topic: five sites of six exported.
                let sites = ThreatDataset.siteIDs
                let export = try await command.run(
                    ["export", "--console-url", emulator.url, "--sink", "kafka", "--filter", "siteIds=\(sites.dropLast().joined(separator: ","))"] + kafka,
                    environment: environment
                )
                #expect(export.status == 0, "\(export.stderr)")
                let dataset = emulator.api.dataset
                let lastSite = Set((0..<dataset.count).filter { dataset.siteID(at: $0) == sites.last! }.map { dataset.id(at: $0) })
                let audit = ["audit", "--console-url", emulator.url, "--from-kafka", "--settle", "0s", "--format", "json"] + kafka
                let outcome = try await command.run(audit, environment: environment)
                #expect(outcome.status == 1, "\(outcome.stderr)")
                let answer = try Answer(outcome)
                #expect(answer.missing == lastSite)
                #expect(answer.stale.isEmpty && answer.incomplete.isEmpty && answer.deletedUpstream.isEmpty)
                let repair = try await command.run(audit + ["--repair", "--sink", "kafka"], environment: environment)
                #expect(repair.status == 0, "\(repair.stderr)")
                let again = try await command.run(audit, environment: environment)
                #expect(again.status == 0, "\(again.stderr)")
                #expect(try Answer(again).missing.isEmpty)
            }
        }
    }
}
