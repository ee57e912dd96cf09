#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Blocking
import Foundation
import Pipeline
import Synchronization

/// Appends records to a file as newline-delimited JSON; parent directories are created. A record is acknowledged
/// once fsync(2) has made it durable: after every `syncThreshold` bytes, when a file is rotated or reopened, and
/// when the sink closes. Files rotate as ``NDJSONRotation`` says, always between records, and are reopened after
/// ``requestReopen()`` (SIGHUP, for logrotate).
public actor NDJSONFileSink: RecordSink {
    public nonisolated let name: String
    public nonisolated let path: String
    private let syncThreshold: Int
    private let rotation: NDJSONRotation
    /// Bytes in the current file, and when it was opened.
    private var fileBytes = 0
    private var openedAt = ContinuousClock.now
    /// Compression and pruning of closed files, in the order the files were closed.
    private var maintenance: Task<Void, Never>?
    /// The reopen generation this sink last acted on.
    private var reopenGeneration = NDJSONFileSink.reopenRequests.load(ordering: .relaxed)
    private var descriptor: Int32 = -1
    private var lines: LineBuffer
    /// Records written but not yet synced.
    private var unsynced: [UInt64] = []
    private var unsyncedBytes = 0
    /// The current file was created by this sink: its directory entry must be made durable (fsync of the
    /// directory) before any of its records is acknowledged, or a crash could lose the whole file.
    private var directoryEntryUnsynced = false
    private var acknowledger: SinkAcknowledger?

    public init(path: String, syncThreshold: Int = 16 * 1024 * 1024, rotation: NDJSONRotation = .none) {
        self.path = path
        self.name = "ndjson:\(path)"
        self.syncThreshold = syncThreshold
        self.rotation = rotation
        self.lines = LineBuffer(path: path)
    }

    /// Counts SIGHUPs: every NDJSON sink reopens its file before its next write.
    private static let reopenRequests = Atomic<Int>(0)

    /// Asks every NDJSON sink to close and reopen its file before its next record (after logrotate moved it).
    public static func requestReopen() {
        reopenRequests.add(1, ordering: .relaxed)
    }

    public func open(acknowledger: SinkAcknowledger) async throws {
        self.acknowledger = acknowledger
        let path = self.path
        try await performBlockingCall { try DirectoryEntries.createParent(of: path) }
        try await openFile()
    }

    /// Opens (or creates) the file on the blocking pool and takes it as the current one.
    private func openFile() async throws {
        let path = self.path
        let opened = try await performBlockingCall { try Self.openForAppending(path) }
        descriptor = opened.descriptor
        directoryEntryUnsynced = opened.created
        fileBytes = opened.size
        openedAt = .now
    }

    /// A file open for appending: whether this open created it, and its size once an incomplete last line is cut.
    struct OpenedFile: Sendable {
        var descriptor: Int32
        var created: Bool
        var size: Int
    }

    /// open(2) for appending, creating the file when missing; blocks.
    static func openForAppending(_ path: String) throws -> OpenedFile {
        var created = false
        var descriptor = Glibc.open(path, O_RDWR | O_APPEND | O_CLOEXEC)
        if descriptor < 0, errno == ENOENT {
            descriptor = Glibc.open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            created = descriptor >= 0
        }
        guard descriptor >= 0 else {
            throw SinkError(sink: path, message: "cannot open for appending: \(String(cString: strerror(errno)))")
        }
        do {
            try dropIncompleteLastLine(descriptor, path: path)
        } catch {
            Glibc.close(descriptor)
            throw error
        }
        return OpenedFile(descriptor: descriptor, created: created, size: Int(lseek(descriptor, 0, SEEK_END)))
    }

    /// Makes everything written durable and acknowledged, then closes the file.
    private func finishFile() async throws {
        try await writeLines()
        try await syncAndAcknowledge()
        Glibc.close(descriptor)
        descriptor = -1
    }

    /// Closes the current file, renames it `<path>.<time>` atomically, starts a new one, and compresses and prunes
    /// the closed files.
    private func rotate() async throws {
        try await finishFile()
        let path = self.path
        let closed = NDJSONRotation.closedName(for: path, at: Date())
        try await performBlockingCall {
            guard rename(path, closed) == 0 else {
                throw SinkError(sink: path, message: "cannot rename to \(closed): \(String(cString: strerror(errno)))")
            }
            DirectoryEntries.sync(directoryOf: path)
        }
        try await openFile()
        let rotation = self.rotation
        if rotation.compress || rotation.retain != nil {
            // Compression and pruning touch only closed files: off the write path, one after the other.
            let previous = maintenance
            maintenance = Task.detached {
                await previous?.value
                if rotation.compress { await Self.gzip(closed) }
                if let retain = rotation.retain {
                    for old in NDJSONRotation.closedFiles(of: path).dropLast(retain) { try? FileManager.default.removeItem(atPath: old) }
                }
            }
        }
    }

    /// `gzip` the closed file into `<file>.gz` (written aside and renamed, so a reader never sees half of it). The
    /// child gets only `PATH` of the environment (never the API token) and is awaited on a thread of its own.
    static func gzip(_ file: String) async {
        let script = "gzip -c -- \"$1\" > \"$1.gz.tmp\" && mv -- \"$1.gz.tmp\" \"$1.gz\" && rm -f -- \"$1\""
        _ = await ChildCommand.run("/bin/sh", ["-c", script, "gzip", file])
    }

    /// A crash in the middle of a write can leave a partial last line. That record was never acknowledged, so it
    /// will be written again; the fragment is cut off so that every line stays a whole record.
    private static func dropIncompleteLastLine(_ descriptor: Int32, path: String) throws {
        let size = lseek(descriptor, 0, SEEK_END)
        guard size > 0 else { return }
        var end = size
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while end > 0 {
            let start = max(0, end - off_t(buffer.count))
            let count = Int(end - start)
            let read = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, start) }
            guard read == count else {
                throw SinkError(sink: path, message: "cannot read its end: \(String(cString: strerror(errno)))")
            }
            if let newline = buffer[..<count].lastIndex(of: 0x0A) {
                let keep = start + off_t(newline) + 1
                if keep == size { return }
                guard ftruncate(descriptor, keep) == 0 else {
                    throw SinkError(sink: path, message: "cannot cut an incomplete last line: \(String(cString: strerror(errno)))")
                }
                return
            }
            end = start
        }
        guard ftruncate(descriptor, 0) == 0 else {
            throw SinkError(sink: path, message: "cannot cut an incomplete line: \(String(cString: strerror(errno)))")
        }
    }

    public func write(_ record: EncodedRecord) async throws {
        guard descriptor >= 0 else { throw SinkError(sink: path, message: "written before open") }
        let requested = Self.reopenRequests.load(ordering: .relaxed)
        if requested != reopenGeneration {
            reopenGeneration = requested
            try await finishFile()
            try await openFile()
        } else if rotation.isEnabled, fileBytes + lines.byteCount > 0,
            rotation.isDue(bytes: fileBytes + lines.byteCount, age: .now - openedAt)
        {
            try await rotate()
        }
        try lines.append(record)
        if lines.isFull { try await writeLines() }
        if unsyncedBytes >= syncThreshold { try await syncAndAcknowledge() }
    }

    public func flush() async throws {
        guard descriptor >= 0 else { throw SinkError(sink: path, message: "flushed before open or after close") }
        if rotation.isEnabled, fileBytes + lines.byteCount > 0,
            rotation.isDue(bytes: fileBytes + lines.byteCount, age: .now - openedAt)
        {
            // A long-lived sink rotates by age even when no record comes to trigger it.
            try await rotate()
        }
        try await writeLines()
        try await syncAndAcknowledge()
    }

    public func close() async throws {
        defer { maintenance = nil }
        await maintenance?.value
        guard descriptor >= 0 else { return }
        defer {
            Glibc.close(descriptor)
            descriptor = -1
        }
        try await writeLines()
        try await syncAndAcknowledge()
    }

    private func writeLines() async throws {
        guard let pending = lines.take() else { return }
        try await FileDescriptorIO.write(pending.bytes, to: descriptor, path: path)
        unsynced.append(contentsOf: pending.sequences)
        unsyncedBytes += pending.bytes.count
        fileBytes += pending.bytes.count
    }

    private func syncAndAcknowledge() async throws {
        try await FileDescriptorIO.sync(descriptor, path: path)
        if directoryEntryUnsynced {
            let path = self.path
            await performBlockingCall { DirectoryEntries.sync(directoryOf: path) }
            directoryEntryUnsynced = false
        }
        acknowledger?.acknowledge(unsynced)
        unsynced.removeAll(keepingCapacity: true)
        unsyncedBytes = 0
    }
}
