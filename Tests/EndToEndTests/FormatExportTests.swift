import Foundation
import TestSupport
import Testing

extension EndToEnd {
    /// `--format ocsf` and `--format ecs` over the emulator's whole data set (awkward strings, deleted threats, big
    /// numbers, threats with many events): every record valid against threatpipe's schema for its format and an
    /// independent check of the standard, and complete against the raw records of the same threats.
    @Suite(.serialized) struct FormatExportTests {
        static func supportPath(_ name: String) -> String {
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Support/\(name)").standardized.path
        }

        static func schemaPath(_ name: String) -> String {
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../schemas/\(name)").standardized.path
        }

        @Test(.timeLimit(.minutes(3)), arguments: [("ocsf", "ocsf-detection-finding.schema.json"), ("ecs", "ecs-alert.v2.schema.json")])
        func everyRecordValidatesAndLosesNothing(_ format: String, _ schema: String) async throws {
            try await withEmulator(threats: 400) { emulator, command in
                let raw = command.path("raw.ndjson")
                let mapped = command.path("\(format).ndjson")
                for (name, output) in [("raw", raw), (format, mapped)] {
                    let outcome = try await command.run(
                        ["export", "--console-url", emulator.url, "--format", name, "--output", output, "--events-page-size", "100"],
                        environment: ["S1_API_TOKEN": emulator.token]
                    )
                    #expect(outcome.status == 0, "\(outcome.stderr)")
                }
                // The emulator's awkward strings hold U+2028/U+2029: every format writes them escaped.
                let mappedBytes = try Data(contentsOf: URL(fileURLWithPath: mapped))
                #expect(mappedBytes.range(of: Data([0xE2, 0x80, 0xA8])) == nil, "a raw U+2028 in \(format)")
                #expect(mappedBytes.range(of: Data([0xE2, 0x80, 0xA9])) == nil, "a raw U+2029 in \(format)")
                #expect(mappedBytes.range(of: Data("\\u2028".utf8)) != nil, "the escaped form is there")
                let check = try await ChildProcess.run(
                    "/usr/bin/env", ["python3", Self.supportPath("validate_formats.py"), format, Self.schemaPath(schema), mapped, raw],
                    environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"],
                    stdoutPath: command.path("check.out"), stderrPath: command.path("check.err")
                )
                let report = (try? String(contentsOfFile: command.path("check.out"), encoding: .utf8)) ?? ""
                let problems = (try? String(contentsOfFile: command.path("check.err"), encoding: .utf8)) ?? ""
                #expect(check.status == 0, "\(report)\(problems)")
                #expect(report == "ok 400\n", "\(report)")
            }
        }
    }
}
