#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The directory side of a file the sinks write: created when missing, and made durable (fsync of the directory)
/// so that a new or renamed file survives a crash.
enum DirectoryEntries {
    /// Creates the directory `path` is in, with its parents.
    static func createParent(of path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        guard !directory.isEmpty else { return }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SinkError(sink: path, message: "cannot create directory \(directory): \(error.localizedDescription)")
        }
    }

    /// fsync of the directory `path` is in: its entries (a file created or renamed there) survive a crash. A
    /// directory that cannot be opened is left as it is.
    static func sync(directoryOf path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let handle = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard handle >= 0 else { return }
        defer { close(handle) }
        _ = fsync(handle)
    }
}
