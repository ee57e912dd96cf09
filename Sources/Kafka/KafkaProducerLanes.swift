import NIOConcurrencyHelpers

/// One librdkafka producer shared by many writers — the shards of a group process — each on a lane of its own: a
/// lane's messages carry its number in the high bits of their tag, and their delivery reports come back to that
/// lane's handler with the writer's own tag. A producer costs a handful of threads and descriptors; one per shard
/// made a process of 100 shards run 820 threads and 1,044 descriptors, and a thousand shards ran out of either.
///
/// A fatal producer error reaches every lane; a flush of the producer waits for every lane's messages. A producer a
/// fatal error ended is replaced by ``replaceIfFatal()`` (a writer calls it before it writes again): the lanes stay,
/// and every writer goes on with the new producer — a shared producer must not stay dead for every shard.
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

    /// The producer in use, and the fatal error that ended it (if one did).
    private struct Current: Sendable {
        var producer: KafkaProducer
        var generation: UInt64
        var fatal: KafkaError?
    }

    static let tagBits: UInt64 = 44
    static let tagMask: UInt64 = (1 << tagBits) - 1
    static let laneCount: UInt64 = 1 << (64 - tagBits)

    private let table: NIOLockedValueBox<Table>
    private let current: NIOLockedValueBox<Current?>
    private let make: @Sendable (UInt64) throws(KafkaError) -> KafkaProducer

    /// The producer the lanes write on now.
    public var producer: KafkaProducer { current.withLockedValue { $0! }.producer }

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
        let current = NIOLockedValueBox<Current?>(nil)
        self.table = table
        self.current = current
        make = { generation throws(KafkaError) in
            try KafkaProducer(
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
                    if error.isFatal {
                        current.withLockedValue { if $0?.generation == generation, $0?.fatal == nil { $0?.fatal = error } }
                    }
                    let every = table.withLockedValue { Array($0.handlers.values) }
                    for handlers in every { handlers.onError(error) }
                },
                onLog: onLog
            )
        }
        let first = try make(1)
        current.withLockedValue { $0 = Current(producer: first, generation: 1) }
    }

    /// When a fatal error ended the producer, makes a new one for every lane and returns the old one, for the caller
    /// to close (its messages were failed by librdkafka: none of them was acknowledged). Nil when the producer is
    /// fine — or another writer replaced it first.
    public func replaceIfFatal() throws(KafkaError) -> KafkaProducer? {
        let replaced = current.withLockedValue { current -> Result<KafkaProducer?, KafkaError> in
            guard let now = current, now.fatal != nil else { return .success(nil) }
            do throws(KafkaError) {
                let made = try make(now.generation + 1)
                current = Current(producer: made, generation: now.generation + 1)
                return .success(now.producer)
            } catch {
                return .failure(error)
            }
        }
        return try replaced.get()
    }

    /// The fatal error that ended the producer in use; nil while it works.
    public var fatalError: KafkaError? { current.withLockedValue { $0?.fatal } }

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
}
