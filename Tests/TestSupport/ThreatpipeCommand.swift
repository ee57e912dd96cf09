import Foundation

/// The built `threatpipe` executable, run the way a user runs it.
public struct ThreatpipeCommand: Sendable {
    /// Beside the test bundle in the build directory, or `$THREATPIPE_BINARY`.
    public static var executablePath: String {
        if let path = ProcessInfo.processInfo.environment["THREATPIPE_BINARY"] { return path }
        let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: testBinary).deletingLastPathComponent().appendingPathComponent("threatpipe").path
    }

    /// The sanitizers' settings of this process (`make sanitize` sets them), passed on to the binary it starts.
    public static var sanitizerEnvironment: [String: String] {
        ProcessInfo.processInfo.environment.filter { ["ASAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"].contains($0.key) }
    }

    /// What a run left behind.
    public struct Outcome: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: String
        public var peakMemoryKiB: Int
        public var elapsed: Duration
        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// A fresh directory for one test's files.
    public let directory: URL

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("threatpipe-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Runs `threatpipe arguments…` with exactly `environment` (plus PATH) and no stdin.
    public func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        discardStdout: Bool = false
    ) async throws -> Outcome {
        let stdoutPath = discardStdout ? "/dev/null" : directory.appendingPathComponent("stdout").path
        let stderrPath = directory.appendingPathComponent("stderr").path
        var environment = environment.merging(Self.sanitizerEnvironment) { mine, _ in mine }
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let result = try await ChildProcess.run(
            Self.executablePath, Self.unthrottled(arguments), environment: environment, stdoutPath: stdoutPath, stderrPath: stderrPath
        )
        return Outcome(
            status: result.status,
            stdout: discardStdout ? Data() : try Data(contentsOf: URL(fileURLWithPath: stdoutPath)),
            stderr: try String(contentsOfFile: stderrPath, encoding: .utf8),
            peakMemoryKiB: result.peakMemoryKiB,
            elapsed: result.elapsed
        )
    }

    /// Starts `threatpipe arguments…` without waiting; standard output and error are appended to files in this
    /// test's directory (`stdout`, `stderr` — or `log`, for a process whose log is read on its own), so that
    /// several runs add up.
    public func start(_ arguments: [String], environment: [String: String] = [:], log: String = "stderr") throws -> ChildProcess.Started {
        var environment = environment.merging(Self.sanitizerEnvironment) { mine, _ in mine }
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return try ChildProcess.start(
            Self.executablePath, Self.unthrottled(arguments), environment: environment,
            stdoutPath: path("stdout"), stderrPath: path(log), append: true
        )
    }

    /// What the runs started with `start` wrote to standard error so far.
    public var stderrSoFar: String {
        (try? String(contentsOfFile: path("stderr"), encoding: .utf8)) ?? ""
    }

    /// `export` and `run` with the rate limiter off unless the test sets `--rate-limit`: the emulator is local and
    /// the default of 10 requests/s would only make the tests slow.
    static func unthrottled(_ arguments: [String]) -> [String] {
        guard let command = arguments.first, ["export", "run"].contains(command), !arguments.contains("--rate-limit") else {
            return arguments
        }
        return arguments + ["--rate-limit", "0"]
    }

    /// Path of a file in this test's directory.
    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Removes this test's files.
    public func cleanUp() { try? FileManager.default.removeItem(at: directory) }
}
