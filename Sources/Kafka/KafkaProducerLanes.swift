import NIOConcurrencyHelpers

/// One librdkafka producer shared by many writers — the shards of a group process — each on a lane of its own: a
/// lane's messages carry its number in the high bits of their tag, and their delivery reports come back to that
/// lane's handler with the writer's own tag. A producer costs a handful of threads and descriptors; one per shard
/// made a process of 100 shards run 820 threads and 1,044 descriptors, and a thousand shards ran out of either.
///
/// A fatal producer error reaches every lane; a flush of the producer waits for every lane's messages.
public final class KafkaProducerLanes: Sendable {
    /// A writer's place on the shared producer.
    public struct Lane: Sendable, Hashable {
        let id: UInt64

        /// The producer's tag for the writer's `tag` (below 2^44).
        public func tag(_ tag: UInt64) -> UInt64 { id << KafkaProducerLanes.tagBits | (tag & KafkaProducerLanes.tagMask) }
    }

    struct Handlers: Sendable {
        var onDelivery: @Sendable (KafkaDeliveryReport) -> Void
        var onError: @Sendable (KafkaError) -> Void
    }

    private struct Table: Sendable {
        var handlers: [UInt64: Handlers] = [:]
        var next: UInt64 = 1
    }

    static let tagBits: UInt64 = 44
    static let tagMask: UInt64 = (1 << tagBits) - 1
    static let laneCount: UInt64 = 1 << (64 - tagBits)

    public let producer: KafkaProducer
    private let table: NIOLockedValueBox<Table>

    /// The shared producer of `topic` with `properties` (as ``KafkaProducer``); `onAnyDelivery` is told of every
    /// delivery report, whichever lane it is for (a writer waiting for room in the shared queue waits on it).
    public init(
        topic: String,
        properties: [(key: String, value: String)],
        headers: [(String, String)] = [],
        onAnyDelivery: @escaping @Sendable () -> Void = {},
        onLog: @escaping @Sendable (Int32, String) -> Void = { _, _ in }
    ) throws(KafkaError) {
        let table = NIOLockedValueBox(Table())
        self.table = table
        producer = try KafkaProducer(
            topic: topic,
            properties: properties,
            headers: headers,
            onDelivery: { report in
                defer { onAnyDelivery() }
                let lane = report.tag >> Self.tagBits
                guard let handlers = table.withLockedValue({ $0.handlers[lane] }) else { return }
                var own = report
                own.tag = report.tag & Self.tagMask
                handlers.onDelivery(own)
            },
            onError: { error in
                let every = table.withLockedValue { Array($0.handlers.values) }
                for handlers in every { handlers.onError(error) }
            },
            onLog: onLog
        )
    }

    /// A new lane whose delivery reports go to `onDelivery` (with the writer's tags) and which hears every producer
    /// error.
    public func open(
        onDelivery: @escaping @Sendable (KafkaDeliveryReport) -> Void, onError: @escaping @Sendable (KafkaError) -> Void
    ) -> Lane {
        table.withLockedValue { table in
            // Lane numbers are reused only once free: a closed lane's late reports then find no handler.
            var id = table.next
            while table.handlers[id] != nil || id == 0 { id = (id + 1) % Self.laneCount }
            table.next = (id + 1) % Self.laneCount
            table.handlers[id] = Handlers(onDelivery: onDelivery, onError: onError)
            return Lane(id: id)
        }
    }

    /// Ends `lane`: its later reports are dropped (its writer flushed first).
    public func close(_ lane: Lane) {
        _ = table.withLockedValue { $0.handlers.removeValue(forKey: lane.id) }
    }

    /// Lanes open now.
    public var openLanes: Int { table.withLockedValue { $0.handlers.count } }
}
