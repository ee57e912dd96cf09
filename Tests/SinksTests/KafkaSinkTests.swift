import Kafka
import Logging
import NIOConcurrencyHelpers
import Foundation
import Pipeline
import RawJSON
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

    /// The producer's lifecycle: after `close`, a call that would touch the destroyed handle throws instead.
    @Test func producerCallsAfterCloseThrow() async throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        let producer = try KafkaProducer(
            topic: "lifecycle", properties: [("bootstrap.servers", cluster.bootstrapServers)],
            onDelivery: { _ in }, onError: { _ in }
        )
        #expect(try producer.produce(key: "k", value: [1], tag: 0) == .enqueued)
        #expect(try await producer.flush(timeout: .seconds(10)) == 0)
        #expect(await producer.close(flushTimeout: .seconds(5)) == 0)
        #expect(await producer.close(flushTimeout: .seconds(5)) == 0, "a second close does nothing")
        #expect(throws: KafkaError.self) { try producer.produce(key: "k", value: [1], tag: 1) }
        #expect(throws: KafkaError.self) { try producer.outstandingCount() }
        await #expect(throws: KafkaError.self) { try await producer.flush(timeout: .seconds(1)) }
        withExtendedLifetime(cluster) {}
    }

    /// A batch the broker rejects for good (MSG_SIZE_TOO_LARGE in its delivery report): with a dead-letter file
    /// each of its records is set aside there and acknowledged; the others are delivered; none is lost.
    @Test(.timeLimit(.minutes(1))) func permanentlyRejectedDeliveriesGoToTheDeadLetterFile() async throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic("poison", partitions: 1, replicationFactor: 1)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dead-\(UUID().uuidString).ndjson").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let letters = try DeadLetterFile(path: path, logger: Logger(label: "test"))
        let tracker = AcknowledgementTracker(sinkCount: 1)
        let sink = KafkaSink(
            configuration: KafkaSinkConfiguration(brokers: cluster.bootstrapServers, topic: "poison", properties: [("linger.ms", "0")]),
            deadLetters: letters,
            logger: Logger(label: "test")
        )
        try await sink.open(acknowledger: tracker.acknowledger(forSink: 0))
        try await sink.write(record(tracker.register()))
        try await sink.flush()
        cluster.failNextProduceRequests(with: [KafkaMockCluster.ErrorCode.messageTooLarge])
        for _ in 0..<5 { try await sink.write(record(tracker.register())) }
        try await sink.flush()
        try await sink.close()
        #expect(tracker.snapshot.isComplete && tracker.snapshot.acknowledgedCount == [6])
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(!lines.isEmpty, "the rejected batch was set aside")
        for line in lines {
            let letter = try JSONValue.parse(Array(line.utf8))
            #expect(letter["reason"] == "MSG_SIZE_TOO_LARGE")
            #expect(letter["threatId"]?.stringValue?.hasPrefix("threat-") == true)
            #expect(letter["record"]?["n"] != nil, "the record itself")
        }
        withExtendedLifetime(cluster) {}
    }

    /// Without a dead-letter file the same rejection fails the sink as permanent, naming the threat.
    @Test(.timeLimit(.minutes(1))) func permanentRejectionWithoutDeadLettersIsAPermanentFailure() async throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic("poison", partitions: 1, replicationFactor: 1)
        let tracker = AcknowledgementTracker(sinkCount: 1)
        let sink = KafkaSink(
            configuration: KafkaSinkConfiguration(
                brokers: cluster.bootstrapServers, topic: "poison", properties: [("message.max.bytes", "1000")]
            ),
            logger: Logger(label: "test")
        )
        try await sink.open(acknowledger: tracker.acknowledger(forSink: 0))
        let large = EncodedRecord(
            sequence: tracker.register(), key: "big", bytes: Array("{\"x\":\"\(String(repeating: "y", count: 5000))\"}".utf8),
            updatedAt: "2026-01-01T00:00:00Z"
        )
        let error = await #expect(throws: SinkError.self) { try await sink.write(large) }
        #expect(error?.isPermanent == true)
        #expect(error?.message.contains("threat big (updatedAt 2026-01-01T00:00:00Z)") == true, "\(String(describing: error))")
        try await sink.close()
        withExtendedLifetime(cluster) {}
    }
}

/// The transactional sink against librdkafka's mock cluster: what a transaction commits is what its checkpoint covers.
@Suite struct KafkaTransactionalSinkTests {
    /// Records come out of the enricher out of order. A transaction must not commit a record above one still being
    /// enriched: its checkpoint covers only the run from the poll's start, so a restart after a kill would commit that
    /// record again (Tansu's markers showed it). Records 1 and 2 written before 0 are held; with transactions of two
    /// records, the first commit holds 0 and 1 and its checkpoint covers both.
    @Test(.timeLimit(.minutes(1))) func aTransactionCommitsOnlyWhatItsCheckpointCovers() async throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic("threats", partitions: 1, replicationFactor: 1)
        try cluster.createTopic("checkpoints", partitions: 1, replicationFactor: 1)
        let asked = NIOLockedValueBox<[UInt64]>([])
        let checkpoints = CommitCheckpointSource()
        checkpoints.use { watermark in
            asked.withLockedValue { $0.append(watermark) }
            return Checkpoint(updatedAt: "2026-01-01T00:00:0\(watermark)Z", idsAtUpdatedAt: [])
        }
        let tracker = AcknowledgementTracker(sinkCount: 1)
        let sink = KafkaTransactionalSink(
            configuration: KafkaSinkConfiguration(brokers: cluster.bootstrapServers, topic: "threats", properties: []),
            transactionalID: "threatpipe-test", limits: .init(records: 2, interval: .seconds(60)),
            checkpointRecords: .init(topic: "checkpoints", source: checkpoints, record: { ("k", Array($0.updatedAt.utf8)) }),
            logger: Logger(label: "test")
        )
        try await sink.open(acknowledger: tracker.acknowledger(forSink: 0))
        let sequences = (0..<3).map { _ in tracker.register() }
        for sequence in [sequences[1], sequences[2]] {
            try await sink.write(EncodedRecord(sequence: sequence, key: "t\(sequence)", bytes: Array("{}".utf8)))
        }
        #expect(asked.withLockedValue { $0 }.isEmpty, "nothing is committed above a record not yet written")
        try await sink.write(EncodedRecord(sequence: sequences[0], key: "t0", bytes: Array("{}".utf8)))
        #expect(asked.withLockedValue { $0 }.first == 2, "the first commit covers records 0 and 1: \(asked.withLockedValue { $0 })")
        #expect(tracker.snapshot.acknowledgedCount == [2])
        try await sink.flush()
        #expect(tracker.snapshot.isComplete)
        try await sink.close()
        withExtendedLifetime(cluster) {}
    }
}
