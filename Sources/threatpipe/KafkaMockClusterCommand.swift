import Runtime
import ArgumentParser
import Kafka
import UnixSignals

/// `threatpipe kafka-mock-cluster`: librdkafka's mock Kafka cluster on loopback, for trying the Kafka sink without
/// a Kafka installation.
struct KafkaMockClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka-mock-cluster",
        abstract: "Run librdkafka's mock Kafka cluster on loopback until SIGINT/SIGTERM.",
        discussion: "Prints 'bootstrap servers HOST:PORT,…' on standard output once it accepts connections."
    )

    @Option(help: "Number of brokers (ids 1…N).")
    var brokers = 1

    @Option(help: "A topic to create before serving, as NAME or NAME:PARTITIONS (the mock answers no CreateTopics request); repeatable.")
    var topic: [String] = []

    @Option(help: "Partitions of each created topic that does not give its own count.")
    var partitions = 3

    func validate() throws {
        guard (1...16).contains(brokers) else { throw ValidationError("--brokers is 1…16") }
        guard (1...64).contains(partitions) else { throw ValidationError("--partitions is 1…64") }
        for value in topic where Self.topicAndPartitions(value, default: partitions) == nil {
            throw ValidationError("--topic takes NAME or NAME:PARTITIONS with 1…256 partitions, not '\(value)'")
        }
    }

    /// `NAME` (the default count) or `NAME:PARTITIONS`.
    static func topicAndPartitions(_ value: String, default count: Int) -> (name: String, partitions: Int)? {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard let name = parts.first, !name.isEmpty, parts.count <= 2 else { return nil }
        guard parts.count == 2 else { return (String(name), count) }
        guard let partitions = Int(parts[1]), (1...256).contains(partitions) else { return nil }
        return (String(name), partitions)
    }

    func run() async throws {
        let cluster: KafkaMockCluster
        do {
            cluster = try KafkaMockCluster(brokers: brokers)
            for value in topic {
                let (name, count) = Self.topicAndPartitions(value, default: partitions)!
                try cluster.createTopic(name, partitions: count, replicationFactor: min(brokers, 3))
            }
        } catch {
            printError("threatpipe: error: \(error)")
            throw ExitCode(ExitStatus.internalError.rawValue)
        }
        printOutput("kafka mock cluster: \(brokers) brokers, bootstrap servers \(cluster.bootstrapServers)")
        await Self.waitForTermination()
        withExtendedLifetime(cluster) {}
    }

    /// Suspends until SIGINT or SIGTERM.
    static func waitForTermination() async {
        for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { return }
    }
}
