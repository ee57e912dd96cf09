import Foundation
import TestSupport
import Testing

extension EndToEnd {
    /// The live progress line: drawn on a terminal (a pseudo-terminal from `script`), absent otherwise.
    @Suite(.serialized) struct ProgressLineTests {
        @Test(.timeLimit(.minutes(2))) func progressIsDrawnOnATerminalOnly() async throws {
            try await withEmulator(threats: 150) { emulator, command in
                let arguments = ["export", "--console-url", emulator.url, "--output", command.path("out.ndjson"), "--rate-limit", "100"]
                let shellLine = ([ThreatpipeCommand.executablePath] + arguments).map { "'\($0)'" }.joined(separator: " ")
                let onTerminal = try await ChildProcess.run(
                    "/usr/bin/script", ["-qec", shellLine, "/dev/null"],
                    environment: ThreatpipeCommand.sanitizerEnvironment.merging(
                        ["S1_API_TOKEN": emulator.token, "PATH": "/usr/bin:/bin", "TERM": "dumb"]
                    ) { $1 },
                    stdoutPath: command.path("terminal.out"), stderrPath: command.path("terminal.err")
                )
                let screen = try String(contentsOfFile: command.path("terminal.out"), encoding: .utf8)
                #expect(onTerminal.status == 0, "\(screen)")
                #expect(screen.contains(" / 150 threats ("), "\(screen)")
                #expect(screen.contains("\u{1B}[K"), "drawn in place")

                let piped = try await command.run(arguments, environment: ["S1_API_TOKEN": emulator.token])
                #expect(piped.status == 0)
                #expect(!piped.stderr.contains("\u{1B}[K") && !piped.stderr.contains("/ 150 threats"), "\(piped.stderr)")
            }
        }
    }
}
