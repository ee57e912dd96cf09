import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program as a child process with its standard output and error in files, and reports its exit status
/// and peak memory (from wait4's rusage, so it is the child's own and no one else's).
public enum ChildProcess {
    public struct Result: Sendable {
        /// The exit code; 128 + the signal number when it was killed.
        public var status: Int32
        /// Peak resident set size, KiB.
        public var peakMemoryKiB: Int
        public var elapsed: Duration
    }

    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String],
        stdoutPath: String,
        stderrPath: String
    ) async throws -> Result {
        try await start(executable, arguments, environment: environment, stdoutPath: stdoutPath, stderrPath: stderrPath)
            .wait()
    }

    /// A started child: signal it, then wait for it.
    public struct Started: Sendable {
        public let pid: pid_t
        let started: ContinuousClock.Instant

        /// Sends `signal` (SIGTERM, SIGKILL …).
        public func send(_ signal: Int32) { kill(pid, signal) }

        /// Waits for the child to exit.
        public func wait() async -> Result {
            let childPID = pid
            let (status, peak) = await withCheckedContinuation { (continuation: CheckedContinuation<(Int32, Int), Never>) in
                // wait4 blocks: a thread of its own, not one of Swift's cooperative ones.
                let thread = Thread {
                    var status: Int32 = 0
                    var usage = rusage()
                    while wait4(childPID, &status, 0, &usage) < 0 && errno == EINTR {}
                    continuation.resume(returning: (status, Int(usage.ru_maxrss)))
                }
                thread.start()
            }
            let exited = status & 0x7F == 0
            return Result(
                status: exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F),
                peakMemoryKiB: peak,
                elapsed: ContinuousClock.now - started
            )
        }
    }

    /// Starts a child with its standard output and error in files (appended to when `append`).
    public static func start(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String],
        stdoutPath: String,
        stderrPath: String,
        append: Bool = false
    ) throws -> Started {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let mode = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, mode, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, mode, 0o644)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let started = ContinuousClock.now
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else { throw SpawnError(code: spawned, executable: executable) }
        return Started(pid: pid, started: started)
    }
}

public struct SpawnError: Error, CustomStringConvertible {
    public var code: Int32
    public var executable: String
    public var description: String { "cannot start \(executable): \(String(cString: strerror(code)))" }
}
