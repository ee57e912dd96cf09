#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Blocking
import Foundation

/// A helper program the sinks run (gzip for rotation): started with posix_spawn and an environment of `PATH` alone —
/// nothing of threatpipe's own, the API token least of all — and awaited on a thread of its own, never one of the
/// cooperative pool. (Foundation's `Process` keeps each child's object alive for the process's lifetime here.)
enum ChildCommand {
    /// Runs `executable` with `arguments`; the exit status, or nil when it could not be started or was killed.
    static func run(_ executable: String, _ arguments: [String]) async -> Int32? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = [strdup("PATH=" + path), nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        guard posix_spawn(&pid, executable, nil, nil, argv, envp) == 0 else { return nil }
        let child = pid
        return await performBlockingCall { () -> Int32? in
            var status: Int32 = 0
            while waitpid(child, &status, 0) < 0 {
                guard errno == EINTR else { return nil }
            }
            let exited = status & 0x7F == 0
            return exited ? (status >> 8) & 0xFF : nil
        }
    }
}
