import Kafka
import Logging
import Pipeline
import Testing

@testable import Sinks

/// The Kafka sink against librdkafka's mock cluster on loopback.
@Suite struct KafkaSinkTests {
    private func record(_ sequence: UInt64) -> EncodedRecord {
        EncodedRecord(sequence: sequence, key: "threat-\(sequence)", bytes: Array(#"{"n":\#(sequence)}"#.utf8))
    }

    @Test(.timeLimit(.minutes(1))) func aFullQueueMakesTheSinkWaitAndNothingIsLost() async throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        let tracker = AcknowledgementTracker(sinkCount: 1)
        let sink = KafkaSink(
            configuration: KafkaSinkConfiguration(
                brokers: cluster.bootstrapServers, topic: "backpressure",
                properties: [("queue.buffering.max.messages", "5"), ("linger.ms", "20")]
            ),
            logger: Logger(label: "test")
        )
        try await sink.open(acknowledger: tracker.acknowledger(forSink: 0))
        for _ in 0..<300 { try await sink.write(record(tracker.register())) }
        #expect(await sink.queueFullWaits > 0, "a five-message queue must fill")
        try await sink.close()
        #expect(tracker.snapshot.isComplete)
        #expect(tracker.snapshot.acknowledgedCount == [300])
        withExtendedLifetime(cluster) {}
    }

    @Test func nothingIsAcknowledgedBeforeItsDeliveryReport() async throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        cluster.setBroker(1, up: false)
        let tracker = AcknowledgementTracker(sinkCount: 1)
        let sink = KafkaSink(
            configuration: KafkaSinkConfiguration(
                brokers: cluster.bootstrapServers, topic: "unreachable",
                properties: [("message.timeout.ms", "1500")], flushTimeout: .seconds(5)
            ),
            logger: Logger(label: "test")
        )
        try await sink.open(acknowledger: tracker.acknowledger(forSink: 0))
        for _ in 0..<10 { try await sink.write(record(tracker.register())) }
        await #expect(throws: SinkError.self) { try await sink.close() }
        #expect(tracker.snapshot.acknowledgedCount == [0], "no broker ever had them")
        withExtendedLifetime(cluster) {}
    }
}
