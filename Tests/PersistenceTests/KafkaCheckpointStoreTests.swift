import Foundation
import Kafka
import Pipeline
import Testing

@testable import Persistence

/// The checkpoint kept in a Kafka topic, against librdkafka's mock cluster over loopback: a round trip, the
/// ownership check, a corrupt value as an error (never a silent restart), a missing topic, --reset-state.
@Suite(.serialized) struct KafkaCheckpointStoreTests {
    let cluster: KafkaMockCluster
    let topic = "threatpipe.checkpoints"
    private let checkpoint = Checkpoint(
        updatedAt: "2026-01-01T00:00:02.000000Z", idsAtUpdatedAt: ["b", "a"],
        deliveredInOverlap: [.init(id: "c", updatedAt: "2026-01-01T00:00:01.000000Z")]
    )

    init() throws {
        cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic(topic, partitions: 3, replicationFactor: 1)
    }

    private func store(
        id: String = "instance-a", console: String = "https://console.example", filters: [String] = ["siteIds=2"], afresh: Bool = false,
        topic: String? = nil, partition: Int32? = nil
    ) -> KafkaCheckpointStore {
        var settings = CompactedTopic.Settings(properties: [("bootstrap.servers", cluster.bootstrapServers)], topic: topic ?? self.topic)
        settings.timeout = .seconds(10)
        return KafkaCheckpointStore(settings: settings, checkpointID: id, consoleURL: console, filters: filters, partition: partition, startAfresh: afresh)
    }

    /// The partition each record of the topic is in, by key.
    private func partitions() throws -> [String: Set<Int32>] {
        var found: [String: Set<Int32>] = [:]
        _ = try KafkaTopicReader.readToEnd(topic: topic, properties: [("bootstrap.servers", cluster.bootstrapServers)], timeout: .seconds(10)) { record in
            found[String(decoding: record.key ?? [], as: UTF8.self), default: []].insert(record.partition)
        }
        return found
    }

    @Test func aShardsCheckpointIsWrittenToAndReadFromItsPartitionAndFoundAfterThePartitionCountChanged() async throws {
        var newer = checkpoint
        newer.updatedAt = "2026-01-01T00:00:09.000000Z"
        let shard = store(id: "site-1", partition: 2)
        try await shard.save(checkpoint)
        try await shard.save(newer)
        await shard.close()
        #expect(try partitions()["site-1"] == [2], "every record of the shard in its partition")
        #expect(try await store(id: "site-1", partition: 2).load() == newer)
        // Another shard's key elsewhere is not read as this one's.
        #expect(try await store(id: "site-2", partition: 2).load() == nil)
        // The topic's partition count changed: the shard now maps to partition 0, which holds nothing of it yet; its
        // checkpoint is found where it was, and from then on it is written to its new partition.
        let moved = store(id: "site-1", partition: 0)
        #expect(try await moved.load() == newer)
        var newest = newer
        newest.updatedAt = "2026-01-01T00:00:10.000000Z"
        try await moved.save(newest)
        await moved.close()
        #expect(try partitions()["site-1"] == [0, 2])
        #expect(try await store(id: "site-1", partition: 0).load() == newest)
    }

    @Test func savesAndLoadsTheLastCheckpointOfItsKey() async throws {
        let first = store()
        #expect(try await first.load() == nil, "nothing stored yet")
        var older = checkpoint
        older.updatedAt = "2026-01-01T00:00:01.000000Z"
        try await first.save(older)
        try await first.save(checkpoint)
        // Another instance's checkpoint in the same topic is not this one's.
        let other = store(id: "instance-b", filters: ["siteIds=9"])
        try await other.save(older)
        await first.close()
        await other.close()
        #expect(try await store().load() == checkpoint, "the last value for the key wins")
        #expect(try await store(id: "instance-b", filters: ["siteIds=9"]).load() == older)
        #expect(store().location == "kafka:\(topic)/instance-a")
    }

    @Test func anotherConsolesCheckpointIsRefusedUnlessStartingAfresh() async throws {
        let saving = store()
        try await saving.save(checkpoint)
        await saving.close()
        let error = await #expect(throws: CheckpointOwnershipError.self) { try await store(console: "https://other.example").load() }
        #expect(error?.description.contains("--instance-id") == true)
        #expect(FailureKind.of(error!) == .configuration)
        // Afresh until this process saved a checkpoint of its own; then its own is what it reads.
        let afresh = store(console: "https://other.example", afresh: true)
        #expect(try await afresh.load() == nil)
        #expect(try await afresh.load() == nil, "still afresh: nothing of its own saved yet")
        try await afresh.save(checkpoint)
        await afresh.close()
        #expect(try await afresh.load() == checkpoint)
    }

    @Test func aCorruptValueIsAStateErrorNeverAFreshStart() async throws {
        let producer = try KafkaProducer(topic: topic, properties: [("bootstrap.servers", cluster.bootstrapServers)], onDelivery: { _ in }, onError: { _ in })
        _ = try producer.produce(key: "instance-a", value: Array("{\"version\":1,\"consoleUrl\":".utf8), tag: 0)
        #expect(await producer.close(flushTimeout: .seconds(10)) == 0)
        let error = await #expect(throws: CheckpointFileError.self) { try await store().load() }
        #expect(FailureKind.of(error!) == .storage)
        #expect(error?.description.contains("kafka:\(topic)/instance-a") == true)
    }

    /// (The mock cluster creates any topic a metadata request names, so a missing topic is shown by its error.)
    @Test func aMissingTopicIsAConfigurationErrorAndAnUnreachableClusterIsRetried() {
        let missing = KafkaCheckpointStoreError(topic: "t", underlying: KafkaError(code: .unknownTopicOrPartition, name: "UNKNOWN_TOPIC_OR_PART", message: "x"))
        #expect(missing.kind == .configuration)
        #expect(missing.description.contains("does not exist"))
        let down = KafkaCheckpointStoreError(topic: "t", underlying: KafkaError(code: .threatpipe, name: "TIMED_OUT", message: "x"))
        #expect(down.kind == .unavailable)
    }

    /// The largest checkpoint a run keeps (100,000 overlap entries, about 7 MB) is saved and loaded again; one larger
    /// than the producer allows is a state error (the run stops, exit 65), not a save retried for ever.
    @Test func aCheckpointOfAHundredThousandOverlapEntriesIsSavedAndOneTooLargeStops() async throws {
        var large = checkpoint
        large.deliveredInOverlap = (0..<100_000).map { .init(id: "1311011474\(100_000_000 + $0)", updatedAt: "2026-01-01T00:00:01.\(String(format: "%06d", $0 % 1_000_000))Z") }
        let saving = store()
        try await saving.save(large)
        await saving.close()
        #expect(saving.record(for: large).value.count > 4_000_000)
        #expect(try await store().load() == large)

        var settings = CompactedTopic.Settings(
            properties: [("bootstrap.servers", cluster.bootstrapServers), ("message.max.bytes", "1000000")], topic: topic
        )
        settings.timeout = .seconds(10)
        let limited = KafkaCheckpointStore(settings: settings, checkpointID: "instance-a", consoleURL: "https://console.example", filters: ["siteIds=2"])
        let failure = await #expect(throws: KafkaCheckpointStoreError.self) { try await limited.save(large) }
        #expect(failure?.kind == .storage)
        #expect(failure?.description.contains("more than the producer's message.max.bytes allows") == true, "\(String(describing: failure))")
        await limited.close()
    }
}
