import CZlib
import Foundation
import Pipeline

/// The lines of files threatpipe wrote: NDJSON, as they are or gzip-compressed (rotated `….gz` files), read in
/// blocks — one line in memory at a time, whatever the file's size.
public enum RecordLines {
    /// The longest line read: four times the Kafka sink's largest message (16 MiB). A longer one is no record of
    /// threatpipe's (`/dev/zero`, a binary file), and reading on would only fill memory.
    public static let maximumLineBytes = 64 << 20

    /// Calls `body` with each non-empty line of each file, in order; a file ending `.gz` is decompressed. A last line
    /// without its newline (a writer cut short) is passed on too: it is judged as a record like the others. A line
    /// longer than `maximumLineBytes` throws, naming the file and the offset where it starts; `shouldStop` is asked
    /// between blocks (a stop throws ``RecordLinesStopped``).
    public static func forEach(
        inFiles paths: [String],
        maximumLineBytes: Int = RecordLines.maximumLineBytes,
        shouldStop: () -> Bool = { false },
        _ body: (ArraySlice<UInt8>) throws -> Void
    ) throws {
        for path in paths {
            guard let file = gzopen(path, "rb") else {
                throw AuditError(description: "cannot open \(path): \(String(cString: strerror(errno)))")
            }
            defer { gzclose(file) }
            // gzread reads a file that is not compressed as it is, so rotated and plain files go the same way.
            var pending: [UInt8] = []
            var block = [UInt8](repeating: 0, count: 1 << 20)
            // Offset (uncompressed) of the block's first byte, and of the line that is pending.
            var offset = 0
            var lineStart = 0
            while true {
                if shouldStop() { throw RecordLinesStopped() }
                let count = block.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
                if count < 0 {
                    var code: Int32 = 0
                    let message = gzerror(file, &code).map { String(cString: $0) } ?? "read error"
                    throw AuditError(description: "cannot read \(path): \(message)")
                }
                if count == 0 { break }
                defer { offset += Int(count) }
                var start = 0
                for index in 0..<Int(count) where block[index] == UInt8(ascii: "\n") {
                    if pending.isEmpty {
                        if index > start { try body(block[start..<index]) }
                    } else {
                        pending += block[start..<index]
                        try body(pending[...])
                        pending.removeAll(keepingCapacity: true)
                    }
                    start = index + 1
                    lineStart = offset + start
                }
                guard pending.count + Int(count) - start <= maximumLineBytes else {
                    throw AuditError(
                        description: "\(path): the line at offset \(lineStart) is longer than \(maximumLineBytes) bytes: not a threatpipe record"
                    )
                }
                pending += block[start..<Int(count)]
            }
            if !pending.isEmpty { try body(pending[...]) }
        }
    }
}

/// A stop was requested while the lines were read.
public struct RecordLinesStopped: Error {}

/// What `audit` could not do: read its input (configuration: exit 64), or list the console (its answers going round).
public struct AuditError: ClassifiedError, Sendable, CustomStringConvertible {
    public var description: String
    public var kind: FailureKind

    public init(description: String, kind: FailureKind = .configuration) {
        self.description = description
        self.kind = kind
    }
}
