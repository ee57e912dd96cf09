#if canImport(CDispatch)
// `stat` and its fields resolve to the copy of <sys/stat.h> that Foundation's Dispatch brings in.
import CDispatch
#endif
#if canImport(Glibc)
import Glibc
#endif

/// What `stat(2)` says about a path or a descriptor, read in one place: the C struct, its mode bits and the module
/// that declares them stay here.
public struct FileStatus: Sendable {
    /// A regular file (not a FIFO that may never be written, not a device that never ends).
    public var isRegularFile: Bool
    /// A pipe.
    public var isFIFO: Bool
    /// The size in bytes.
    public var size: Int64

    /// The path could not be examined; `reason` is the system's (`strerror`).
    public struct Unreadable: Error, Sendable {
        public var reason: String
    }

    init(_ status: stat) {
        isRegularFile = status.st_mode & S_IFMT == S_IFREG
        isFIFO = status.st_mode & S_IFMT == S_IFIFO
        size = Int64(status.st_size)
    }

    /// The status of `path` (links followed).
    public static func of(path: String) throws(Unreadable) -> FileStatus {
        var status = stat()
        guard stat(path, &status) == 0 else { throw Unreadable(reason: String(cString: strerror(errno))) }
        return FileStatus(status)
    }

    /// The status of an open descriptor; nil when it cannot be examined.
    public static func of(descriptor: Int32) -> FileStatus? {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return nil }
        return FileStatus(status)
    }
}
