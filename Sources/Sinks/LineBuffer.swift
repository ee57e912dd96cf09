import Foundation
import Pipeline

/// Records gathered as newline-terminated lines until there are enough to write at once.
struct LineBuffer {
    /// Bytes gathered before a write is due.
    let flushThreshold: Int
    let path: String
    private var bytes: [UInt8] = []
    private var sequences: [UInt64] = []

    init(path: String, flushThreshold: Int = 256 * 1024) {
        self.path = path
        self.flushThreshold = flushThreshold
    }

    /// Adds a record as one line. A record holding a newline byte would split the line: refused.
    mutating func append(_ record: EncodedRecord) throws(SinkError) {
        let holdsNewline = record.bytes.withUnsafeBytes { bytes in
            guard let start = bytes.baseAddress else { return false }
            return memchr(start, 0x0A, bytes.count) != nil  // vectorized, unlike contains(_:)
        }
        if holdsNewline {
            throw SinkError(sink: path, message: "record of threat \(record.key) contains a newline byte")
        }
        bytes.append(contentsOf: record.bytes)
        bytes.append(0x0A)
        sequences.append(record.sequence)
    }

    var isFull: Bool { bytes.count >= flushThreshold }

    /// Bytes gathered and not yet handed over.
    var byteCount: Int { bytes.count }

    /// Hands over what was gathered (nil when nothing was) and starts afresh.
    mutating func take() -> PendingLines? {
        guard !bytes.isEmpty || !sequences.isEmpty else { return nil }
        defer {
            bytes = []
            bytes.reserveCapacity(flushThreshold + 64 * 1024)
            sequences = []
        }
        return PendingLines(bytes: bytes, sequences: sequences)
    }
}

/// Lines on their way to a file descriptor, with the records they hold.
struct PendingLines: Sendable {
    var bytes: [UInt8]
    var sequences: [UInt64]
}
