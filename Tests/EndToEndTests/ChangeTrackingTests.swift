import Emulator
import Foundation
import Pipeline
import RawJSON
import TestSupport
import Testing

extension EndToEnd {
    /// `run` says what changed in each version (`meta.change`), against the version delivered before it, with the
    /// state beside the state file — across a graceful restart and a kill -9.
    @Suite(.serialized) struct ChangeTrackingTests {
        /// One delivered record's threat version and what it says of its change, whatever the format.
        struct Said: Equatable, CustomStringConvertible {
            var updatedAt: String
            var kind: String
            var fields: [String]
            /// OCSF's `activity_id`, ECS's `event.type`, or nothing (raw).
            var form: String

            var description: String { "\(updatedAt) \(kind) \(fields) \(form)" }
        }

        static func said(_ line: [UInt8], format: String) throws -> (id: String, said: Said) {
            let record = try JSONValue.parse(line)
            let meta: JSONValue?
            let form: String
            switch format {
            case "ocsf":
                meta = record["unmapped"]?["threatpipe"]
                form = record["activity_id"].map { String(decoding: $0.serialized, as: UTF8.self) } ?? "?"
            case "ecs":
                meta = record["sentinel_one"]?["export"]
                form = (record["event"]?["type"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",")
            default:
                meta = record["meta"]
                form = ""
            }
            let change = try #require(meta?["change"], "every record of run says its change")
            let fields = (change["fields"]?.arrayValue ?? []).map { field in
                let path = field["path"]?.stringValue ?? "?"
                let from = field["from"].map { String(decoding: $0.serialized, as: UTF8.self) } ?? "?"
                let to = field["to"].map { String(decoding: $0.serialized, as: UTF8.self) } ?? "?"
                return "\(path):\(from)->\(to)"
            }
            return (
                try #require(meta?["threatId"]?.stringValue),
                Said(updatedAt: meta?["threatUpdatedAt"]?.stringValue ?? "", kind: change["kind"]?.stringValue ?? "?", fields: fields, form: form)
            )
        }

        static func delivered(_ command: ThreatpipeCommand, format: String) throws -> [(id: String, said: Said)] {
            let data = (try? Data(contentsOf: URL(fileURLWithPath: command.path("out.ndjson")))) ?? Data()
            return try RecordExpectations.lines(data).map { try said($0, format: format) }
        }

        /// Returns once a record of threat `id` at `updatedAt` is in the output (the file is read as it grows).
        static func waitForVersion(_ command: ThreatpipeCommand, format: String, id: String, updatedAt: String, run: ChildProcess.Started) async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                if try delivered(command, format: format).contains(where: { $0.id == id && $0.said.updatedAt == updatedAt }) { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            Issue.record("version \(updatedAt) of \(id) was not delivered: \(command.stderrSoFar.suffix(2000))")
            throw CancellationError()
        }

        /// Returns once the checkpoint in the state file has reached `updatedAt`.
        static func waitForCheckpoint(_ command: ThreatpipeCommand, atLeast updatedAt: String) async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                if let text = try? String(contentsOfFile: command.path("state.json"), encoding: .utf8),
                    let state = try? JSONValue.parse(Array(text.utf8)), let reached = state["checkpoint"]?["updatedAt"]?.stringValue,
                    reached >= updatedAt
                { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            Issue.record("the checkpoint did not reach \(updatedAt)")
            throw CancellationError()
        }

        func arguments(_ emulator: RunningEmulator, _ command: ThreatpipeCommand, format: String, extra: [String] = []) -> [String] {
            ["run", "--console-url", emulator.url, "--interval", "1s", "--since", "2000-01-01T00:00:00Z", "--format", format,
             "--output", command.path("out.ndjson"), "--state", command.path("state.json"), "--overlap", "0s"] + extra
        }

        @Test(.timeLimit(.minutes(4)), arguments: ["raw", "ocsf", "ecs"])
        func aThreatsLifeIsFourChangesAndOneCloseAcrossARestartAndAKill(_ format: String) async throws {
            let emulator = try await RunningEmulator.start(threats: 5)
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let environment = ["S1_API_TOKEN": emulator.token]
            var run = try command.start(arguments(emulator, command, format: format), environment: environment)
            func nextVersion(of index: Int) async throws {
                let id = emulator.api.dataset.id(at: index)
                try await Self.waitForVersion(command, format: format, id: id, updatedAt: emulator.api.updatedAt(at: index).description, run: run)
            }
            // The console's threats older than the state: unknown.
            try await nextVersion(of: 4)
            emulator.api.change(added: 1, updated: 0, now: .now)
            let threat = 5
            try await nextVersion(of: threat)  // created
            emulator.api.update(at: threat)  // a verdict
            try await nextVersion(of: threat)
            run.send(SIGKILL)
            _ = await run.wait()
            run = try command.start(arguments(emulator, command, format: format), environment: environment)
            emulator.api.update(at: threat)  // in progress
            try await nextVersion(of: threat)
            try await Self.waitForCheckpoint(command, atLeast: emulator.api.updatedAt(at: threat).description)
            run.send(SIGTERM)
            #expect(await run.wait().status == 0, "\(command.stderrSoFar.suffix(2000))")
            run = try command.start(arguments(emulator, command, format: format), environment: environment)
            emulator.api.update(at: threat)  // resolved
            try await nextVersion(of: threat)
            emulator.api.update(at: threat)  // nothing tracked changes
            try await nextVersion(of: threat)
            run.send(SIGTERM)
            #expect(await run.wait().status == 0, "\(command.stderrSoFar.suffix(2000))")
            await emulator.stop()

            let records = try Self.delivered(command, format: format)
            let id = emulator.api.dataset.id(at: threat)
            // What each version said, once per version: a version delivered again (after the kill) says the same.
            var byVersion: [String: Said] = [:]
            var order: [String] = []
            for record in records where record.id == id {
                if let earlier = byVersion[record.said.updatedAt] {
                    #expect(earlier == record.said, "a version delivered again says the same change")
                } else {
                    byVersion[record.said.updatedAt] = record.said
                    order.append(record.said.updatedAt)
                }
            }
            let life = order.map { byVersion[$0]! }
            #expect(life.map(\.kind) == ["new", "changed", "changed", "changed", "unchanged"], "\(life)")
            #expect(life.map(\.fields) == [
                [], ["threatInfo.analystVerdict:\"undefined\"->\"true_positive\""],
                ["threatInfo.incidentStatus:\"unresolved\"->\"in_progress\""], ["threatInfo.incidentStatus:\"in_progress\"->\"resolved\""], [],
            ], "\(life)")
            switch format {
            case "ocsf": #expect(life.map(\.form) == ["1", "2", "2", "3", "2"], "Create, Update, Update, Close once, Update")
            case "ecs":
                // The type is `info` or `indicator` by the threat's classification; `change` is added on a change.
                let forms: [[String]] = life.map { $0.form.split(separator: ",").map(String.init) }
                let changes: [[String]] = forms.map { Array($0.dropFirst()) }
                #expect(changes == [[], ["change"], ["change"], ["change"], []], "\(forms)")
                #expect(Set(forms.compactMap(\.first)).count == 1, "\(forms)")
            default: break
            }
            let others = records.filter { $0.id != id }
            #expect(!others.isEmpty && others.allSatisfy { $0.said.kind == "unknown" }, "threats older than the state are unknown")
        }

        @Test(.timeLimit(.minutes(3)))
        func emitChangesSendsOnlyNewAndChangedVersionsAndStillMovesTheCheckpoint() async throws {
            let emulator = try await RunningEmulator.start(threats: 3)
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let run = try command.start(
                arguments(emulator, command, format: "raw", extra: ["--emit", "changes", "--track", "threatInfo.incidentStatus"]),
                environment: ["S1_API_TOKEN": emulator.token]
            )
            let id = { emulator.api.dataset.id(at: 3) }
            try await Self.waitForVersion(command, format: "raw", id: emulator.api.dataset.id(at: 2), updatedAt: emulator.api.updatedAt(at: 2).description, run: run)
            emulator.api.change(added: 1, updated: 0, now: .now)
            try await Self.waitForVersion(command, format: "raw", id: id(), updatedAt: emulator.api.updatedAt(at: 3).description, run: run)
            // The verdict is not tracked here: this version changes nothing tracked — decided when it is listed, so
            // neither its analysis nor its events are requested.
            let before = emulator.api.requestCounts
            emulator.api.update(at: 3)
            let untracked = emulator.api.updatedAt(at: 3).description
            try await Self.waitForCheckpoint(command, atLeast: untracked)
            let after = emulator.api.requestCounts
            #expect(after.analysis == before.analysis && after.events == before.events, "an unchanged version costs no enrichment request: \(before) → \(after)")
            #expect(command.stderrSoFar.contains("enrichment_skipped=1"), "\(command.stderrSoFar.suffix(2000))")
            emulator.api.update(at: 3)  // in progress: tracked
            try await Self.waitForVersion(command, format: "raw", id: id(), updatedAt: emulator.api.updatedAt(at: 3).description, run: run)
            run.send(SIGTERM)
            #expect(await run.wait().status == 0, "\(command.stderrSoFar.suffix(2000))")
            await emulator.stop()

            let mine = try Self.delivered(command, format: "raw").filter { $0.id == id() }.map(\.said)
            #expect(mine.map(\.kind) == ["new", "changed"], "\(mine)")
            #expect(!mine.contains { $0.updatedAt == untracked }, "the unchanged version is not sent")
            #expect(mine.last?.fields == ["threatInfo.incidentStatus:\"unresolved\"->\"in_progress\""])

            let validation = try await ChildProcess.run(
                "/usr/bin/env", ["python3", ExportCommandTests.validatorPath, ExportCommandTests.schemaPath, command.path("out.ndjson")],
                environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"],
                stdoutPath: command.path("validation.out"), stderrPath: command.path("validation.err")
            )
            #expect(validation.status == 0, "\((try? String(contentsOfFile: command.path("validation.out"), encoding: .utf8)) ?? "")")
        }
    
        /// A change with a side over the cap is valid in each format's schema: its `truncated` form.
        @Test func aTruncatedChangeIsValidInEveryFormatsSchema() async throws {
            let field = ThreatChange.Field(
                path: "threatInfo.analystVerdict", from: Array("\"undefined\"".utf8),
                to: TrackedValueDigest.bounded(Array("\"\(String(repeating: "x", count: 8192))\"".utf8))
            )
            let absent = ThreatChange.Field(path: "threatInfo.failedActions", from: nil, to: TrackedValueDigest.bounded(Array("[\(String(repeating: "1,", count: 4096))1]".utf8)))
            var json: [UInt8] = []
            ThreatChange(kind: .changed, previousUpdatedAt: "2026-07-01T00:00:00Z", fields: [field, absent]).appendJSON(to: &json)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("threatpipe-truncated-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let change = directory.appendingPathComponent("change.json").path
            try Data(json).write(to: URL(fileURLWithPath: change))
            let script = """
                import json, sys, jsonschema
                change = json.load(open(sys.argv[1]))
                def find(node):
                    if isinstance(node, dict):
                        props = node.get("properties", {})
                        if "previousUpdatedAt" in props and "fields" in props:
                            return node
                        for value in node.values():
                            found = find(value)
                            if found: return found
                    if isinstance(node, list):
                        for value in node:
                            found = find(value)
                            if found: return found
                for path in sys.argv[2:]:
                    jsonschema.validate(change, find(json.load(open(path))))
                    bad = json.loads(json.dumps(change)); bad["fields"][0]["toSha256"] = "not hex"
                    try:
                        jsonschema.validate(bad, find(json.load(open(path)))); sys.exit("accepted a bad digest: " + path)
                    except jsonschema.ValidationError:
                        pass
                print("ok")
                """
            let schemas = ["enriched-threat.schema.json", "ocsf-detection-finding.schema.json", "ecs-alert.v2.schema.json"].map(FormatExportTests.schemaPath)
            let outcome = try await ChildProcess.run(
                "/usr/bin/env", ["python3", "-c", script, change] + schemas,
                environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"],
                stdoutPath: directory.appendingPathComponent("out").path, stderrPath: directory.appendingPathComponent("err").path
            )
            let problems = (try? String(contentsOfFile: directory.appendingPathComponent("err").path, encoding: .utf8)) ?? ""
            #expect(outcome.status == 0, "\(String(decoding: json, as: UTF8.self)): \(problems)")
        }
}
}
