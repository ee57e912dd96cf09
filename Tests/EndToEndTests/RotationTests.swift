import Foundation
import RawJSON
import TestSupport
import Testing

extension EndToEnd {
    /// NDJSON rotation while records keep coming: no line lost, none split, `tail -F` follows the new files; SIGHUP
    /// reopens the file after an outside rename (logrotate).
    @Suite(.serialized) struct RotationTests {
        /// Every line of every file of `output` (closed ones oldest first, gzipped or not, then the current one).
        static func allLines(_ output: String, in command: ThreatpipeCommand) throws -> [[UInt8]] {
            let directory = (output as NSString).deletingLastPathComponent
            let base = (output as NSString).lastPathComponent
            let closed = try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { $0.hasPrefix(base + ".") }.sorted()
            var lines: [[UInt8]] = []
            for name in closed {
                let path = directory + "/" + name
                var data = try Data(contentsOf: URL(fileURLWithPath: path))
                if name.hasSuffix(".gz") {
                    let plain = command.path("gunzip.out")
                    _ = try #require(try? runGunzip(path, into: plain))
                    data = try Data(contentsOf: URL(fileURLWithPath: plain))
                }
                #expect(data.last == 0x0A, "\(name) ends with a whole line")
                lines += RecordExpectations.lines(data)
            }
            return lines + RecordExpectations.lines(try Data(contentsOf: URL(fileURLWithPath: output)))
        }

        static func runGunzip(_ path: String, into output: String) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "gzip -dc -- \"$1\" > \"$2\"", "sh", path, output]
            try process.run()
            process.waitUntilExit()
        }

        /// The gzip child of rotation gets PATH and nothing else of threatpipe's environment: never the API token. A
        /// `gzip` first on PATH notes the environment it was given, then runs the real one.
        @Test(.timeLimit(.minutes(2))) func gzipChildDoesNotInheritTheToken() async throws {
            try await withEmulator(threats: 60) { emulator, command in
                let bin = command.path("bin")
                try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
                let seen = command.path("gzip-environment")
                let realGzip = ["/usr/bin/gzip", "/bin/gzip"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "gzip"
                try "#!/bin/sh\nenv >> '\(seen)'\nexec \(realGzip) \"$@\"\n".write(toFile: bin + "/gzip", atomically: true, encoding: .utf8)
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin + "/gzip")
                let output = command.path("out.ndjson")
                let result = try await ChildProcess.run(
                    ThreatpipeCommand.executablePath,
                    ["export", "--console-url", emulator.url, "--rate-limit", "0", "--output", output, "--rotate-size", "20K", "--rotate-gzip"],
                    environment: ThreatpipeCommand.sanitizerEnvironment.merging([
                        "S1_API_TOKEN": emulator.token, "PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
                    ]) { $1 },
                    stdoutPath: command.path("stdout"), stderrPath: command.path("stderr")
                )
                #expect(result.status == 0, "\((try? String(contentsOfFile: command.path("stderr"), encoding: .utf8)) ?? "")")
                let environment = try String(contentsOfFile: seen, encoding: .utf8)
                #expect(environment.contains("PATH="), "the fake gzip ran: \(environment)")
                #expect(!environment.contains(emulator.token) && !environment.contains("S1_API_TOKEN"), "\(environment)")
            }
        }

        @Test(.timeLimit(.minutes(2)), arguments: [false, true])
        func rotationUnderContinuousWritingLosesAndSplitsNoLine(_ gzip: Bool) async throws {
            try await withEmulator(threats: 400) { emulator, command in
                let output = command.path("out/threats.ndjson")
                try FileManager.default.createDirectory(atPath: command.path("out"), withIntermediateDirectories: true)
                _ = FileManager.default.createFile(atPath: output, contents: nil)
                let tail = try ChildProcess.start(
                    "/usr/bin/tail", ["-n", "+1", "-F", "-s", "0.05", output], environment: [:],
                    stdoutPath: command.path("tail.out"), stderrPath: command.path("tail.err")
                )
                let outcome = try await command.run(
                    ["export", "--console-url", emulator.url, "--output", output, "--rotate-size", "150K", "--retain", "1000",
                     "--concurrency", "4"] + (gzip ? ["--rotate-gzip"] : []),
                    environment: ["S1_API_TOKEN": emulator.token]
                )
                #expect(outcome.status == 0, "\(outcome.stderr)")
                let lines = try Self.allLines(output, in: command)
                let ids = try lines.map { try #require(try JSONValue.parse($0)["threat"]?["id"]?.stringValue) }
                #expect(ids.count == 400 && Set(ids).count == 400, "every record once, whole")
                let closed = try FileManager.default.contentsOfDirectory(atPath: command.path("out")).filter { $0 != "threats.ndjson" }
                #expect(closed.count >= 5, "rotated several times: \(closed.count)")
                #expect(closed.allSatisfy { $0.hasSuffix(".gz") == gzip }, "\(closed)")

                // tail -F reads on into each new file: the current file's last record reaches it.
                let last = try #require(RecordExpectations.lines(try Data(contentsOf: URL(fileURLWithPath: output))).last)
                var seen = Data()
                for _ in 0..<200 where seen.range(of: Data(last)) == nil {
                    try await Task.sleep(for: .milliseconds(50))
                    seen = (try? Data(contentsOf: URL(fileURLWithPath: command.path("tail.out")))) ?? Data()
                }
                tail.send(SIGKILL)
                _ = await tail.wait()
                #expect(seen.range(of: Data(last)) != nil, "tail -F followed the rotations")
                #expect(RecordExpectations.lines(seen).allSatisfy { (try? JSONValue.parse($0)) != nil }, "tail saw only whole lines")
            }
        }
        /// logrotate's way: the file is renamed from outside during an export, then SIGHUP; the export writes on
        /// into a new file at the path, and the two files hold every threat once, whole lines only.
        @Test(.timeLimit(.minutes(2))) func sighupReopensTheFileAfterAnOutsideRename() async throws {
            let emulator = try await RunningEmulator.start(threats: 300, latency: .milliseconds(5))
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let output = command.path("export.ndjson")
            let export = try command.start(
                ["export", "--console-url", emulator.url, "--output", output, "--rate-limit", "150", "--concurrency", "4"],
                environment: ["S1_API_TOKEN": emulator.token]
            )
            // Wait for written records (the sink writes in 256 KiB batches), then rotate as logrotate would.
            while ((try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0) == 0 {
                try await Task.sleep(for: .milliseconds(20))
            }
            try FileManager.default.moveItem(atPath: output, toPath: output + ".1")
            export.send(SIGHUP)
            let result = await export.wait()
            await emulator.stop()
            let stderr = command.stderrSoFar
            #expect(result.status == 0, "\(stderr)")
            #expect(stderr.contains("SIGHUP: reopening"), "\(stderr)")
            let before = RecordExpectations.lines(try Data(contentsOf: URL(fileURLWithPath: output + ".1")))
            let after = RecordExpectations.lines(try Data(contentsOf: URL(fileURLWithPath: output)))
            #expect(!before.isEmpty && !after.isEmpty, "written before the rename and after the reopen")
            let ids = try (before + after).map { try #require(try JSONValue.parse($0)["threat"]?["id"]?.stringValue) }
            #expect(ids.count == 300 && Set(ids).count == 300, "every threat once")
        }
    }
}
