import Foundation

/// A topic's records as the broker stored them, each with the outcome of its transaction told by the broker's own
/// commit and abort markers (`Tests/Support/kafka_batches.py`: raw Fetch, read_uncommitted).
public enum KafkaBatches {
    public enum State: String, Sendable, Decodable {
        /// A commit marker of its producer follows it.
        case committed
        /// An abort marker of its producer follows it.
        case aborted
        /// Transactional, with no marker after it yet.
        case open
        /// Written outside a transaction.
        case plain
    }

    public struct Record: Sendable, Decodable {
        public var partition: Int
        public var offset: Int
        public var state: State
        public var producerId: Int
        public var producerEpoch: Int
        public var key: String?
        public var value: String?
    }

    /// Every record of `topic`'s `partitions` partitions, in offset order per partition.
    public static func read(brokers: String, topic: String, partitions: Int, in command: ThreatpipeCommand) async throws -> [Record] {
        let output = command.path("batches-\(UUID().uuidString).out")
        let result = try await ChildProcess.run(
            "/usr/bin/env", ["python3", supportScript("kafka_batches.py"), brokers, topic, String(partitions)],
            environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"],
            stdoutPath: output, stderrPath: command.path("batches.err")
        )
        guard result.status == 0 else {
            let problem = (try? String(contentsOfFile: command.path("batches.err"), encoding: .utf8)) ?? ""
            throw KcatFailed(status: result.status, message: "kafka_batches.py: \(problem)")
        }
        let decoder = JSONDecoder()
        return try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map {
            try decoder.decode(Record.self, from: Data($0.utf8))
        }
    }
}
