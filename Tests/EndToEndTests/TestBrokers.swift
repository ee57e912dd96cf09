import Kafka
import TestSupport
import Testing

/// A Kafka broker a suite runs against: started with its topics, reachable or cut off, stopped when released.
protocol TestBroker: AnyObject, Sendable {
    var bootstrapServers: String { get }
    /// An outage (`false`): every connection refused and closed; then back (`true`).
    func setReachable(_ reachable: Bool) throws
}

/// The brokers the Kafka suites run on, with the same assertions wherever both can show a thing.
///
/// | broker | what only it shows |
/// |---|---|
/// | librdkafka's mock cluster | injected protocol errors (produce errors, a fenced EndTxn answer); several brokers |
/// | Tansu | transaction markers (committed vs aborted), open transactions hidden, fencing of a zombie, a real group coordinator |
enum Broker: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case mock
    case tansu

    var testDescription: String { rawValue }

    /// A single broker with `topics` (name, partitions).
    func start(topics: [(String, Int)]) throws -> any TestBroker {
        switch self {
        case .mock:
            let cluster = try KafkaMockCluster(brokers: 1)
            for (name, partitions) in StateTopics.adding(to: topics) { try cluster.createTopic(name, partitions: partitions, replicationFactor: 1) }
            return cluster
        case .tansu:
            return try TansuBroker(topics: topics)
        }
    }
}

extension KafkaMockCluster: TestBroker {
    func setReachable(_ reachable: Bool) throws { setBroker(1, up: reachable) }
}

extension TansuBroker: TestBroker {}

/// A record as a reader of the topic sees it once transactions are settled.
struct DeliveredRecord: Sendable {
    var partition: Int
    var offset: Int
    var key: String
    var value: [UInt8]
}

extension Broker {
    /// The records of `topic` that count as delivered: on Tansu those its markers say were committed (or written
    /// outside a transaction), by the raw batches; on the mock cluster, which writes no markers, every record
    /// (read with kcat).
    func deliveredRecords(_ broker: any TestBroker, topic: String, partitions: Int, in command: ThreatpipeCommand) async throws -> [DeliveredRecord] {
        switch self {
        case .mock:
            let data = try await Kcat.consume(brokers: broker.bootstrapServers, topic: topic, format: "%p %o %k\t%s\n", in: command)
            return RecordExpectations.lines(data).map { line in
                let tab = line.firstIndex(of: 0x09)!
                let head = String(decoding: line[..<tab], as: UTF8.self).split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
                return DeliveredRecord(partition: Int(head[0])!, offset: Int(head[1])!, key: String(head[2]), value: Array(line[(tab + 1)...]))
            }
        case .tansu:
            return try await KafkaBatches.read(brokers: broker.bootstrapServers, topic: topic, partitions: partitions, in: command)
                .filter { $0.state == .committed || $0.state == .plain }
                .map { DeliveredRecord(partition: $0.partition, offset: $0.offset, key: $0.key ?? "", value: Array(($0.value ?? "").utf8)) }
        }
    }
}
