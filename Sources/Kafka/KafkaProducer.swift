import Durations
import CRdKafka
import Foundation
import NIOConcurrencyHelpers
import Synchronization

/// A librdkafka producer for one topic: messages are enqueued without blocking, delivery reports come back
/// through `onDelivery` from a poll thread of the producer's own (never one of Swift's cooperative threads).
///
/// Its lifecycle is a ``StateMachine`` (open → closing → closed) behind a lock: `produce`, `flush` and
/// `outstandingCount` after `close` throw instead of touching a destroyed handle.
public final class KafkaProducer: Sendable {
    /// The per-message header naming the record's threat version (`<threat id>:<updatedAt>`).
    public static let versionHeader = "threatpipe-version-id"

    /// What `produce` did with a message.
    public enum ProduceResult: Sendable, Equatable {
        /// librdkafka has it; a delivery report will follow.
        case enqueued
        /// librdkafka's queue is full: wait for delivery reports, then produce it again.
        case queueFull
    }

    public let topic: String
    /// The headers of every message, as the bytes librdkafka copies (converted once, not per message).
    private let headerBytes: [(name: [UInt8], value: [UInt8])]
    private let kafka: RDKafkaHandle
    /// Held for as long as the handle lives: librdkafka keeps only an unretained pointer to it.
    private let callbacks: RDKafkaCallbacks
    private let pollLoop: RDKafkaPollLoop
    private let metadataRefresh = RDKafkaMetadataRefresh()
    /// Held while a call uses the handle, so that `close` cannot destroy it under that call. (A pthread lock, which
    /// ThreadSanitizer sees.)
    private let state = NIOLockedValueBox(StateMachine())
    /// The producer's blocking calls (flushes, transaction calls, the close) run here, one at a time, on a queue of
    /// its own — as swift-kafka-client gives each client its own queue: a commit of up to 30 s never waits behind an
    /// fsync of the shared blocking pool or another shard's commit, and never holds them up.
    private let blockingQueue = DispatchQueue(label: "threatpipe.kafka.producer")

    /// Creates the producer.
    /// - Parameters:
    ///   - properties: librdkafka properties (`bootstrap.servers`, `acks`, …), applied in order; an unknown key or a
    ///     bad value throws with librdkafka's own text.
    ///   - headers: put on every message.
    public init(
        topic: String,
        properties: [(key: String, value: String)],
        headers: [(String, String)] = [],
        onDelivery: @escaping @Sendable (KafkaDeliveryReport) -> Void,
        onError: @escaping @Sendable (KafkaError) -> Void,
        onLog: @escaping @Sendable (Int32, String) -> Void = { _, _ in }
    ) throws(KafkaError) {
        let configuration = try RDKafkaConfiguration(properties)
        let callbacks = RDKafkaCallbacks(onDelivery: onDelivery, onError: onError, onLog: onLog)
        callbacks.install(on: configuration)
        self.topic = topic
        self.headerBytes = headers.map { (Array($0.0.utf8), Array($0.1.utf8)) }
        self.callbacks = callbacks
        let kafka = try RDKafkaHandle.make(RD_KAFKA_PRODUCER, configuration)
        self.kafka = kafka
        self.pollLoop = RDKafkaPollLoop(kafka, name: "threatpipe.kafka.poll")
        KafkaFaultInjection.register(self)
    }

    deinit {
        KafkaFaultInjection.unregister(self)
        if state.withLockedValue({ $0.mustDestroyOnDeinit }) {
            pollLoop.stop()
            metadataRefresh.waitUntilFinished()
            rd_kafka_destroy(kafka.pointer)
        }
    }

    /// Enqueues one message (copied) with the producer's headers and, when given, a ``versionHeader``. `tag` comes
    /// back in its delivery report. Throws once the producer is closing or closed.
    /// `topic` overrides the producer's topic for this message (a checkpoint record in the same transaction);
    /// `partition` chooses its partition (a shard's checkpoint lives in its shard's partition), else the partitioner does.
    public func produce(
        key: String, value: [UInt8], tag: UInt64, versionID: String? = nil, topic: String? = nil, partition: Int32? = nil
    ) throws(KafkaError) -> ProduceResult {
        try whileOpen { () throws(KafkaError) -> ProduceResult in
            try produceOnOpenHandle(
                key: key, value: value, tag: tag, versionID: versionID, topic: topic ?? self.topic,
                partition: partition ?? RD_KAFKA_PARTITION_UA
            )
        }
    }

    /// ``produce(key:value:tag:versionID:topic:)``, waiting for deliveries to make room while librdkafka's queue is
    /// full (for the occasional message; the Kafka sink waits on its delivery reports instead).
    public func produceWhenRoom(
        key: String, value: [UInt8], tag: UInt64, versionID: String? = nil, topic: String? = nil, partition: Int32? = nil
    ) async throws(KafkaError) {
        while try produce(key: key, value: value, tag: tag, versionID: versionID, topic: topic, partition: partition) == .queueFull {
            _ = try await flush(timeout: .milliseconds(100))
        }
    }

    /// `rd_kafka_test_fatal_error()` on this producer, while it is open (see ``KafkaFaultInjection``); false when it
    /// is closed or already ended by a fatal error.
    func raiseTestFatalError(code: Int32, reason: String) -> Bool {
        (try? whileOpen { rd_kafka_test_fatal_error(kafka.pointer, rd_kafka_resp_err_t(rawValue: code), reason) == RD_KAFKA_RESP_ERR_NO_ERROR }) ?? false
    }

    /// Runs `body` holding the lock, if the handle is open; throws ``KafkaError/closed`` otherwise.
    private func whileOpen<Result: Sendable>(_ body: () throws(KafkaError) -> Result) throws(KafkaError) -> Result {
        let outcome = state.withLockedValue { state -> Swift.Result<Result, KafkaError> in
            do throws(KafkaError) {
                try state.mayUseHandle()
                return .success(try body())
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }

    private func produceOnOpenHandle(
        key: String, value: [UInt8], tag: UInt64, versionID: String?, topic: String, partition: Int32
    ) throws(KafkaError) -> ProduceResult {
        // The producer's headers describe its records; a message to another topic (a checkpoint) goes without them.
        let headers = topic == self.topic ? headerBytes : []
        let headerList = rd_kafka_headers_new(headers.count + 1)
        for header in headers {
            header.name.withUnsafeBytes { name in
                header.value.withUnsafeBytes { value in
                    _ = rd_kafka_header_add(
                        headerList,
                        name.baseAddress?.assumingMemoryBound(to: CChar.self), name.count,
                        value.baseAddress, value.count
                    )
                }
            }
        }
        if var versionID {
            versionID.withUTF8 { bytes in
                _ = rd_kafka_header_add(headerList, Self.versionHeader, -1, bytes.baseAddress, bytes.count)
            }
        }
        var key = key
        let failure: OpaquePointer? = topic.withCString { topicName in key.withUTF8 { keyBytes in
            value.withUnsafeBytes { valueBytes in
                withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7) { fields in
                    fields.initialize(repeating: rd_kafka_vu_t())
                    fields[0].vtype = RD_KAFKA_VTYPE_TOPIC
                    fields[0].u.cstr = topicName
                    fields[1].vtype = RD_KAFKA_VTYPE_VALUE
                    fields[1].u.mem.ptr = UnsafeMutableRawPointer(mutating: valueBytes.baseAddress)
                    fields[1].u.mem.size = valueBytes.count
                    fields[2].vtype = RD_KAFKA_VTYPE_KEY
                    fields[2].u.mem.ptr = UnsafeMutableRawPointer(mutating: keyBytes.baseAddress)
                    fields[2].u.mem.size = keyBytes.count
                    fields[3].vtype = RD_KAFKA_VTYPE_HEADERS
                    fields[3].u.headers = headerList
                    fields[4].vtype = RD_KAFKA_VTYPE_OPAQUE
                    fields[4].u.ptr = UnsafeMutableRawPointer(bitPattern: UInt(tag &+ 1))
                    fields[5].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    fields[5].u.i = RD_KAFKA_MSG_F_COPY
                    fields[6].vtype = RD_KAFKA_VTYPE_PARTITION
                    fields[6].u.i32 = partition
                    return rd_kafka_produceva(kafka.pointer, fields.baseAddress, fields.count)
                }
            }
        } }
        guard let failure else {
            metadataRefresh.requestOnce(kafka)
            return .enqueued
        }
        rd_kafka_headers_destroy(headerList)
        let error = KafkaError(consuming: failure)
        if error.isQueueFull { return .queueFull }
        throw error
    }

    /// What librdkafka said about reaching the cluster: add its cause to a failure while no broker was reached.
    public var connection: KafkaConnectionWatch { callbacks.watch }

    /// Messages enqueued or in flight, not yet reported; throws once the producer is closing or closed.
    public func outstandingCount() throws(KafkaError) -> Int {
        try whileOpen { Int(rd_kafka_outq_len(kafka.pointer)) }
    }

    /// Waits up to `timeout` for every message enqueued so far to be reported (on a thread of its own); the producer
    /// stays open. Throws once the producer is closing or closed.
    /// - Returns: how many messages are still outstanding.
    public func flush(timeout: Duration) async throws(KafkaError) -> Int {
        try whileOpen {}
        let kafka = self.kafka
        let milliseconds = timeout.clampedMilliseconds
        // A flush and a close run on the producer's one queue, so a close waits for a flush under way: a producer
        // shared on lanes is closed by whichever writer replaced it after a fatal error, while another may still be
        // flushing on it.
        return await onOwnQueue {
            rd_kafka_flush(kafka.pointer, milliseconds)
            return Int(rd_kafka_outq_len(kafka.pointer))
        }
    }

    // MARK: Transactions (a producer made with `transactional.id`)

    /// Registers the `transactional.id` with the cluster: fences every older producer with the same id and aborts
    /// its open transaction. Once, before the first transaction; blocks up to `timeout` off the cooperative pool.
    public func initTransactions(timeout: Duration) async throws(KafkaError) {
        do {
            try await transactionCall { kafka in rd_kafka_init_transactions(kafka, timeout.clampedMilliseconds) }
        } catch {
            throw error.explained(by: connection)
        }
        connection.noteReached()
    }

    /// Starts a transaction: every message produced until it is committed or aborted belongs to it.
    public func beginTransaction() throws(KafkaError) {
        try whileOpen { () throws(KafkaError) in
            if let error = rd_kafka_begin_transaction(kafka.pointer) { throw KafkaError(consuming: error) }
        }
    }

    /// Flushes the transaction's messages and commits it; blocks up to `timeout` off the cooperative pool. On an
    /// error with ``KafkaError/requiresAbort`` call ``abortTransaction(timeout:)``; a fatal one ends the producer.
    public func commitTransaction(timeout: Duration) async throws(KafkaError) {
        try await transactionCall { kafka in rd_kafka_commit_transaction(kafka, timeout.clampedMilliseconds) }
    }

    /// Aborts the transaction: its messages are never seen by `read_committed` consumers.
    public func abortTransaction(timeout: Duration) async throws(KafkaError) {
        try await transactionCall { kafka in rd_kafka_abort_transaction(kafka, timeout.clampedMilliseconds) }
    }

    private func transactionCall(_ call: @escaping @Sendable (OpaquePointer) -> OpaquePointer?) async throws(KafkaError) {
        try whileOpen {}
        let kafka = self.kafka
        // `close` is not called while a call is under way: the sink that owns the producer serialises them.
        let failure: KafkaError? = await onOwnQueue {
            call(kafka.pointer).map { KafkaError(consuming: $0) }
        }
        if let failure { throw failure }
    }

    /// Waits up to `flushTimeout` for every message to be reported (on a thread of its own), then destroys the
    /// producer, waiting for that at most ``RDKafkaHandle/releaseBound``. A second call, or one after a failure, does
    /// nothing.
    /// - Returns: how many messages were still outstanding: not delivered.
    public func close(flushTimeout: Duration) async -> Int {
        guard state.withLockedValue({ $0.close() }) == .flushAndDestroy else { return 0 }
        let kafka = self.kafka
        let pollLoop = self.pollLoop
        let metadataRefresh = self.metadataRefresh
        let milliseconds = flushTimeout.clampedMilliseconds
        let callbacks = self.callbacks
        let outstanding = await onOwnQueue {
            rd_kafka_flush(kafka.pointer, milliseconds)
            pollLoop.stop()
            metadataRefresh.waitUntilFinished()
            let outstanding = Int(rd_kafka_outq_len(kafka.pointer))
            // librdkafka's destroy has no timeout: past its bound it goes on, abandoned, on a thread of its own, and
            // the callbacks it may still call are kept alive for it.
            if !kafka.destroy() { _ = Unmanaged.passRetained(callbacks) }
            return outstanding
        }
        state.withLockedValue { $0.closed() }
        return outstanding
    }

    /// Runs `body`, a call that blocks, on the producer's own queue.
    private func onOwnQueue<Result: Sendable>(_ body: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { continuation in
            blockingQueue.async { continuation.resume(returning: body()) }
        }
    }
}
