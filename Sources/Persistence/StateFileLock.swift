import Pipeline

#if canImport(Glibc)
import Glibc
#endif

/// One process per state file, as Filebeat refuses a data path another instance has locked: an advisory `fcntl`
/// write lock on `<state>.lock`, held for as long as the run lives. A second `run` on the same `--state` stops at
/// start (exit 65) naming the holder's pid; a lock whose holder died is free again by construction (the kernel
/// releases a process's locks when it exits, SIGKILL included).
public final class StateFileLock: Sendable {
    public let path: String
    private let descriptor: Int32

    /// Takes the lock beside the state file `statePath`; throws ``StateFileLockError`` when another process holds it
    /// or the lock file cannot be opened.
    public init(statePath: String) throws {
        path = statePath + ".lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw StateFileLockError(description: "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        guard fcntl(descriptor, F_SETLK, &lock) == 0 else {
            let reason = errno
            var holder = flock()
            holder.l_type = Int16(F_WRLCK)
            holder.l_whence = Int16(SEEK_SET)
            let pid = fcntl(descriptor, F_GETLK, &holder) == 0 && holder.l_type != Int16(F_UNLCK) ? "pid \(holder.l_pid)" : "another process"
            close(descriptor)
            guard reason == EAGAIN || reason == EACCES else {
                throw StateFileLockError(description: "cannot lock \(path): \(String(cString: strerror(reason)))")
            }
            throw StateFileLockError(
                description: "the state file \(statePath) is in use by another threatpipe (\(pid), holding \(path)): "
                    + "two runs on one state file would write the same checkpoint; stop it, or use another --state"
            )
        }
        // The holder's pid, for people (the lock itself is what counts).
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = text.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }
}

/// The state file is locked by another process, or its lock cannot be taken: unusable state (exit 65).
public struct StateFileLockError: Error, Sendable, CustomStringConvertible, ClassifiedError {
    public var description: String
    public var kind: FailureKind { .storage }
}
