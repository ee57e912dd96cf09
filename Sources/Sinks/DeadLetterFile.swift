import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import Metrics
import Pipeline
import RawJSON

/// Where records that a sink rejects for good (too large, invalid, a topic that does not exist or may not be
/// written) are set aside, so that one poison record never wedges an export or a run: one NDJSON line per record —
/// threat id, updatedAt, sink, reason, error, and the record itself — appended and fsynced before the record counts
/// as acknowledged by that sink.
public final class DeadLetterFile: Sendable {
    public let path: String
    private let logger: Logger
    /// The open descriptor; -1 once closed. The lock also keeps lines whole when reports come from several threads.
    private let descriptor: NIOLockedValueBox<Int32>

    /// Opens `path` for appending (parent directories are created, the new file's directory entry made durable).
    public init(path: String, logger: Logger) throws {
        self.path = path
        self.logger = logger
        try DirectoryEntries.createParent(of: path)
        let existed = FileManager.default.fileExists(atPath: path)
        let descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw SinkError(sink: path, message: "cannot open the dead-letter file: \(String(cString: strerror(errno)))")
        }
        if !existed { DirectoryEntries.sync(directoryOf: path) }
        self.descriptor = NIOLockedValueBox(descriptor)
    }

    deinit {
        close()
    }

    /// Appends the record's line and fsyncs it; only then may the caller acknowledge the record. Blocks for the
    /// write and fsync: called on the rare path of a rejected record.
    public func append(
        threatID: String,
        updatedAt: String?,
        sink: String,
        reason: String,
        error: String,
        record: [UInt8]
    ) throws {
        var line = Array(#"{"threatId":"#.utf8)
        JSONSplicer.appendString(threatID, to: &line)
        line.append(contentsOf: #","updatedAt":"#.utf8)
        if let updatedAt { JSONSplicer.appendString(updatedAt, to: &line) } else { line.append(contentsOf: "null".utf8) }
        for (name, value) in [("sink", sink), ("reason", reason), ("error", error), ("deadLetteredAt", RFC3339Timestamp.now.description)] {
            line.append(contentsOf: ",\"\(name)\":".utf8)
            JSONSplicer.appendString(value, to: &line)
        }
        line.append(contentsOf: #","record":"#.utf8)
        if (try? JSONValue.parse(record)) != nil {
            line.append(contentsOf: record)
        } else {
            // Not JSON (never from threatpipe's encoders): kept as a string, so the line stays valid.
            JSONSplicer.appendString(String(decoding: record, as: UTF8.self), to: &line)
        }
        line.append(contentsOf: "}\n".utf8)
        try descriptor.withLockedValue { descriptor in
            guard descriptor >= 0 else { throw SinkError(sink: path, message: "the dead-letter file is closed") }
            try line.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0, errno == EINTR { continue }
                    guard written > 0 else {
                        throw SinkError(sink: path, message: "cannot write the dead-letter file: \(String(cString: strerror(errno)))")
                    }
                    offset += written
                }
            }
            guard fsync(descriptor) == 0 else {
                throw SinkError(sink: path, message: "cannot fsync the dead-letter file: \(String(cString: strerror(errno)))")
            }
        }
        Counter(label: "threatpipe_dead_letters_total", dimensions: [("sink", sink), ("reason", reason)]).increment()
        logger.error(
            "record set aside in the dead-letter file",
            metadata: ["threat": "\(threatID)", "updatedAt": "\(updatedAt ?? "")", "sink": "\(sink)", "error": "\(error)", "file": "\(path)"]
        )
    }

    /// Closes the file; later appends throw.
    public func close() {
        descriptor.withLockedValue { descriptor in
            if descriptor >= 0 { Glibc.close(descriptor) }
            descriptor = -1
        }
    }
}
