#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Pipeline

/// Writes records to standard output, one per line. A record is acknowledged once write(2) has taken it.
public actor StdoutSink: RecordSink {
    public nonisolated let name = "stdout"
    private var lines = LineBuffer(path: "stdout")
    private var acknowledger: SinkAcknowledger?

    public init() {}

    public func open(acknowledger: SinkAcknowledger) async throws {
        self.acknowledger = acknowledger
    }

    public func write(_ record: EncodedRecord) async throws {
        try lines.append(record)
        if lines.isFull { try await writeAndAcknowledge() }
    }

    public func flush() async throws {
        try await writeAndAcknowledge()
    }

    public func close() async throws {
        try await writeAndAcknowledge()
    }

    private func writeAndAcknowledge() async throws {
        guard let pending = lines.take() else { return }
        try await FileDescriptorIO.write(pending.bytes, to: STDOUT_FILENO, path: name)
        acknowledger?.acknowledge(pending.sequences)
    }
}
