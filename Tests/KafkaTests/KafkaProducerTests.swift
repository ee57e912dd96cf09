import NIOConcurrencyHelpers
import Testing

@testable import Kafka

/// The producer's lifecycle as a value: every event says what the producer may do, so no call touches a destroyed
/// handle.
@Suite struct KafkaProducerStateMachineTests {
    @Test func closingIsDoneOnceAndNothingUsesTheHandleAfterIt() throws {
        var machine = KafkaProducer.StateMachine()
        try machine.mayUseHandle()
        #expect(machine.mustDestroyOnDeinit, "an open producer nobody closed is destroyed by its deinit")
        #expect(machine.close() == .flushAndDestroy)
        #expect(throws: KafkaError.self) { try machine.mayUseHandle() }
        #expect(machine.close() == .none, "a second close while the first flushes does nothing")
        #expect(!machine.mustDestroyOnDeinit, "the closing call destroys the handle, not the deinit")
        machine.closed()
        #expect(machine.state == .closed)
        #expect(machine.close() == .none)
        #expect(throws: KafkaError.self) { try machine.mayUseHandle() }
    }
}

/// The producer against librdkafka's mock cluster, over the Kafka protocol on loopback.
@Suite struct KafkaProducerTests {
    /// Every message comes back in one delivery report carrying its tag; closing waits for them, and a closed
    /// producer refuses to produce (with an error, never a crash) and closes again as a no-op.
    @Test(.timeLimit(.minutes(1))) func everyMessageIsReportedOnceWithItsTagAndAClosedProducerRefuses() async throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic("records", partitions: 3, replicationFactor: 1)
        let reported = NIOLockedValueBox<[UInt64]>([])
        let producer = try KafkaProducer(
            topic: "records", properties: [("bootstrap.servers", cluster.bootstrapServers)],
            onDelivery: { report in
                #expect(report.error == nil)
                reported.withLockedValue { $0.append(report.tag) }
            },
            onError: { _ in }
        )
        for tag in UInt64(0)..<500 {
            try await producer.produceWhenRoom(key: "k\(tag % 7)", value: Array("record \(tag)".utf8), tag: tag)
        }
        #expect(await producer.close(flushTimeout: .seconds(30)) == 0)
        #expect(reported.withLockedValue { $0.sorted() } == Array(0..<500))
        #expect(throws: KafkaError.self) { try producer.produce(key: "late", value: [], tag: 999) }
        #expect(await producer.close(flushTimeout: .seconds(1)) == 0)
        withExtendedLifetime(cluster) {}
    }

    /// Transactions commit one after another on one producer, and every message of them is reported delivered.
    @Test(.timeLimit(.minutes(1))) func transactionsCommitOneAfterAnother() async throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic("records", partitions: 1, replicationFactor: 1)
        let reported = NIOLockedValueBox<Int>(0)
        let producer = try KafkaProducer(
            topic: "records",
            properties: [("bootstrap.servers", cluster.bootstrapServers), ("transactional.id", "kafka-tests")],
            onDelivery: { report in
                #expect(report.error == nil)
                reported.withLockedValue { $0 += 1 }
            },
            onError: { _ in }
        )
        try await producer.initTransactions(timeout: .seconds(30))
        for transaction in 0..<3 {
            try producer.beginTransaction()
            for index in 0..<10 {
                try await producer.produceWhenRoom(key: "t\(transaction)", value: Array("\(index)".utf8), tag: UInt64(transaction * 10 + index))
            }
            try await producer.commitTransaction(timeout: .seconds(30))
        }
        #expect(await producer.close(flushTimeout: .seconds(5)) == 0)
        #expect(reported.withLockedValue { $0 } == 30)
        withExtendedLifetime(cluster) {}
    }
}
