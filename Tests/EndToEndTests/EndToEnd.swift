import Kafka
import TestSupport
import Testing

/// The end-to-end suites run one at a time: they start processes and measure them, and a neighbour's load would
/// blur what the memory test sees.
@Suite(.serialized) enum EndToEnd {}

extension EndToEnd {
    /// Runs `body` with an in-process emulator of `threats` threats (with `faults`) and a fresh command directory,
    /// and stops and removes both afterwards, also when `body` throws.
    static func withEmulator(
        threats: Int,
        faults: [String] = [],
        _ body: (RunningEmulator, ThreatpipeCommand) async throws -> Void
    ) async throws {
        let emulator = try await RunningEmulator.start(threats: threats, faults: faults)
        let command = try ThreatpipeCommand()
        defer { command.cleanUp() }
        do {
            try await body(emulator, command)
        } catch {
            await emulator.stop()
            throw error
        }
        await emulator.stop()
    }

    /// ``withEmulator(threats:faults:_:)`` plus librdkafka's mock cluster of `brokers` brokers with `topics` of three
    /// partitions each, kept until `body` is done.
    static func withEmulatorAndCluster(
        threats: Int,
        faults: [String] = [],
        brokers: Int = 3,
        topics: [String] = ["threats"],
        _ body: (RunningEmulator, KafkaMockCluster, ThreatpipeCommand) async throws -> Void
    ) async throws {
        let cluster = try KafkaMockCluster(brokers: brokers)
        for topic in StateTopics.adding(to: topics) { try cluster.createTopic(topic, partitions: 3, replicationFactor: min(brokers, 3)) }
        try await withEmulator(threats: threats, faults: faults) { emulator, command in
            try await body(emulator, cluster, command)
        }
        withExtendedLifetime(cluster) {}
    }

    /// ``withEmulator(threats:faults:_:)`` plus a single broker of `kind` with `topics` (name, partitions), kept until
    /// `body` is done.
    static func withEmulatorAndBroker(
        _ kind: Broker,
        threats: Int,
        faults: [String] = [],
        topics: [(String, Int)] = [("threats", 3)],
        _ body: (RunningEmulator, any TestBroker, ThreatpipeCommand) async throws -> Void
    ) async throws {
        let broker = try kind.start(topics: topics)
        try await withEmulator(threats: threats, faults: faults) { emulator, command in
            try await body(emulator, broker, command)
        }
        withExtendedLifetime(broker) {}
    }
}
