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

    @Option(help: "Topics to create before serving; repeatable.")
    var topic: [String] = []

    @Option(help: "Partitions of each created topic.")
    var partitions = 3

    func validate() throws {
        guard (1...16).contains(brokers) else { throw ValidationError("--brokers is 1…16") }
        guard (1...64).contains(partitions) else { throw ValidationError("--partitions is 1…64") }
    }

    func run() async throws {
        let cluster: KafkaMockCluster
        do {
            cluster = try KafkaMockCluster(brokers: brokers)
            for name in topic { try cluster.createTopic(name, partitions: partitions, replicationFactor: min(brokers, 3)) }
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
