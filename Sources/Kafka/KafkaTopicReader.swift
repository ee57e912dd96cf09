import CRdKafka
import Durations

/// Reads a topic from its beginning to its end, once — how a store kept in a (compacted) topic is loaded.
///
/// Every partition is assigned from its first offset, without a consumer group (nothing is committed), with
/// `isolation.level=read_committed`: records of aborted or still-open transactions are never seen, and a partition
/// ends at its last stable offset, so a transaction another process left open does not hold the read up.
public enum KafkaTopicReader {
    /// One record read.
    public struct Record: Sendable {
        public var partition: Int32
        public var offset: Int64
        public var key: [UInt8]?
        /// nil for a tombstone (a deleted key in a compacted topic).
        public var value: [UInt8]?
    }

    /// Reads every record of `topic` (of `partitions` only, when given) up to the end of each partition, calling
    /// `onRecord` in partition order, and returns the topic's partition count. Blocks (up to `timeout` in all): call
    /// it off the cooperative pool. Throws when the topic does not exist, the cluster does not answer in time, or
    /// the read fails.
    public static func readToEnd(
        topic: String,
        properties: [(key: String, value: String)],
        partitions only: Set<Int32>? = nil,
        readCommitted: Bool = true,
        timeout: Duration,
        onRecord: (Record) throws -> Void
    ) throws -> Int {
        let deadline = ContinuousClock.now + timeout
        let configuration = try RDKafkaConfiguration(properties + [
            ("group.id", "threatpipe-topic-reader"), ("enable.auto.commit", "false"), ("enable.partition.eof", "true"),
            ("isolation.level", readCommitted ? "read_committed" : "read_uncommitted"), ("auto.offset.reset", "earliest"), ("allow.auto.create.topics", "false"),
            ("log_level", "0"),
            // Prefetch bounded to 8 MB (librdkafka's default, 64 MB, doubled a run's peak memory while it restored
            // a state topic of 100,000 entries); the read is no slower for it.
            ("queued.max.messages.kbytes", "8192"),
        ])
        let kafka = try RDKafkaHandle.make(RD_KAFKA_CONSUMER, configuration)
        // Bounded: a close or destroy that outlives it is left to a thread of its own.
        defer { kafka.closeAndDestroyConsumer() }
        let partitions = try partitionCount(kafka, topic: topic, timeout: deadline - .now)
        let read = (0..<partitions).filter { only?.contains($0) ?? true }
        let assignment = rd_kafka_topic_partition_list_new(Int32(read.count))
        defer { rd_kafka_topic_partition_list_destroy(assignment) }
        for partition in read {
            rd_kafka_topic_partition_list_add(assignment, topic, partition)?.pointee.offset = Int64(RD_KAFKA_OFFSET_BEGINNING)
        }
        // The end is the high watermark as the read starts, not the first end-of-partition: read_committed stops at
        // the last stable offset, and a transaction open at the start (another producer's, or one an InitProducerId
        // is aborting) would hide every record after its first one, our own latest checkpoint among them. Such a
        // transaction ends (committed, aborted, timed out) and the read goes on to the snapshot.
        // Asked before the partitions are assigned: once they are, each query waits behind the consumer's long-poll
        // Fetch on the same connection (fetch.wait.max.ms, 500 ms) — 30 s for 60 partitions. (ListOffsets for them
        // all at once would be one request, but Tansu 0.6.0 answers it with a wrong latest offset.)
        var end: [Int32: Int64] = [:]
        for partition in read {
            var low: Int64 = 0, high: Int64 = 0
            let answer = rd_kafka_query_watermark_offsets(
                kafka.pointer, topic, partition, &low, &high, max(deadline - .now, .milliseconds(1)).clampedMilliseconds
            )
            if let error = answer.nilIfNoError { throw KafkaError(error) }
            end[partition] = high
        }
        if let error = rd_kafka_assign(kafka.pointer, assignment).nilIfNoError { throw KafkaError(error) }
        var ended = Set<Int32>(), atEOF = Set<Int32>()
        while ended.count < read.count {
            guard ContinuousClock.now < deadline else {
                throw KafkaError(code: .threatpipe, name: "TIMED_OUT", message: "reading \(topic) to its end took longer than \(timeout)")
            }
            guard let message = rd_kafka_consumer_poll(kafka.pointer, 100) else {
                for partition in atEOF.subtracting(ended) where position(kafka, topic, partition) >= end[partition, default: 0] {
                    ended.insert(partition)
                }
                continue
            }
            defer { rd_kafka_message_destroy(message) }
            let record = message.pointee
            if record.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                atEOF.insert(record.partition)
                if record.offset >= end[record.partition, default: 0] { ended.insert(record.partition) }
                continue
            }
            if record.err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(record.err) }
            try onRecord(Record(
                partition: record.partition,
                offset: record.offset,
                key: record.key.map { Array(UnsafeRawBufferPointer(start: $0, count: record.key_len)) },
                value: record.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: record.len)) }
            ))
        }
        return Int(partitions)
    }

    /// The consumer's next offset in `partition` (past aborted records and transaction markers); -1 when unknown.
    static func position(_ kafka: RDKafkaHandle, _ topic: String, _ partition: Int32) -> Int64 {
        let list = rd_kafka_topic_partition_list_new(1)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        rd_kafka_topic_partition_list_add(list, topic, partition)
        guard rd_kafka_position(kafka.pointer, list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return -1 }
        return list.pointee.elems[0].offset
    }

    /// The topic's partition count from a metadata request; throws when it does not exist.
    static func partitionCount(_ kafka: RDKafkaHandle, topic: String, timeout: Duration) throws(KafkaError) -> Int32 {
        guard let handle = rd_kafka_topic_new(kafka.pointer, topic, nil) else {
            throw KafkaError(code: .threatpipe, name: "TOPIC_HANDLE", message: "cannot name the topic \(topic)")
        }
        defer { rd_kafka_topic_destroy(handle) }
        var pointer: UnsafePointer<rd_kafka_metadata>?
        let result = rd_kafka_metadata(kafka.pointer, 0, handle, &pointer, max(timeout, .milliseconds(1)).clampedMilliseconds)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR, let pointer else { throw KafkaError(result) }
        defer { rd_kafka_metadata_destroy(pointer) }
        let metadata = pointer.pointee
        guard metadata.topic_cnt == 1, metadata.topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR, metadata.topics[0].partition_cnt > 0 else {
            let error = metadata.topic_cnt == 1 ? metadata.topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
            throw KafkaError(error == RD_KAFKA_RESP_ERR_NO_ERROR ? RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART : error, message: "topic \(topic) does not exist")
        }
        return metadata.topics[0].partition_cnt
    }
}

extension rd_kafka_resp_err_t {
    /// nil for NO_ERROR: `if let error = call().nilIfNoError`.
    var nilIfNoError: rd_kafka_resp_err_t? { self == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : self }
}
