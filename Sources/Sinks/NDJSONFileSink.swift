#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Pipeline

/// Appends records to a file as newline-delimited JSON; parent directories are created. A record is acknowledged
/// once fsync(2) has made it durable: after every `syncThreshold` bytes, and when the sink closes.
public actor NDJSONFileSink: RecordSink {
    public nonisolated let name: String
    public nonisolated let path: String
    private let syncThreshold: Int
    private var descriptor: Int32 = -1
    private var lines: LineBuffer
    /// Records written but not yet synced.
    private var unsynced: [UInt64] = []
    private var unsyncedBytes = 0
    private var acknowledger: SinkAcknowledger?

    public init(path: String, syncThreshold: Int = 16 * 1024 * 1024) {
        self.path = path
        self.name = "ndjson:\(path)"
        self.syncThreshold = syncThreshold
        self.lines = LineBuffer(path: path)
    }

    public func open(acknowledger: SinkAcknowledger) async throws {
        self.acknowledger = acknowledger
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw SinkError(path: path, message: "cannot create directory \(directory): \(error.localizedDescription)")
            }
        }
        descriptor = Glibc.open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw SinkError(path: path, message: "cannot open for appending: \(String(cString: strerror(errno)))")
        }
        try dropIncompleteLastLine()
    }

    /// A crash in the middle of a write can leave a partial last line. That record was never acknowledged, so it
    /// will be written again; the fragment is cut off so that every line stays a whole record.
    private func dropIncompleteLastLine() throws {
        let size = lseek(descriptor, 0, SEEK_END)
        guard size > 0 else { return }
        var end = size
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while end > 0 {
            let start = max(0, end - off_t(buffer.count))
            let count = Int(end - start)
            let read = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, start) }
            guard read == count else {
                throw SinkError(path: path, message: "cannot read its end: \(String(cString: strerror(errno)))")
            }
            if let newline = buffer[..<count].lastIndex(of: 0x0A) {
                let keep = start + off_t(newline) + 1
                if keep == size { return }
                guard ftruncate(descriptor, keep) == 0 else {
                    throw SinkError(path: path, message: "cannot cut an incomplete last line: \(String(cString: strerror(errno)))")
                }
                return
            }
            end = start
        }
        guard ftruncate(descriptor, 0) == 0 else {
            throw SinkError(path: path, message: "cannot cut an incomplete line: \(String(cString: strerror(errno)))")
        }
    }

    public func write(_ record: EncodedRecord) async throws {
        guard descriptor >= 0 else { throw SinkError(path: path, message: "written before open") }
        try lines.append(record)
        if lines.isFull { try await writeLines() }
        if unsyncedBytes >= syncThreshold { try await syncAndAcknowledge() }
    }

    public func close() async throws {
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
    }

    private func syncAndAcknowledge() async throws {
        try await FileDescriptorIO.sync(descriptor, path: path)
        acknowledger?.acknowledge(unsynced)
        unsynced.removeAll(keepingCapacity: true)
        unsyncedBytes = 0
    }
}
