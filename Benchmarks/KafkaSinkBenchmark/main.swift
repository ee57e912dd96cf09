// The Kafka sink benchmark: records/s through threatpipe's KafkaSink (produce, wait on a full queue, acknowledge on
// delivery report, flush on close), with its default settings, to compare with raw_producer.c sending the same
// bytes with the same settings.
//
// Usage: KafkaSinkBenchmark BROKERS TOPIC RECORDS.ndjson [exactly-once [RECORDS_PER_TRANSACTION]]
// Prints `records_per_second N`. With `exactly-once`, through KafkaTransactionalSink (transactions of 1000 records or the given count,
// each with a checkpoint record to TOPIC.checkpoints), committed before it closes.
import Durations
import Foundation
import Logging
import Pipeline
import Sinks

let arguments = CommandLine.arguments
guard (4...6).contains(arguments.count) else {
    FileHandle.standardError.write(Data("usage: KafkaSinkBenchmark BROKERS TOPIC RECORDS.ndjson [exactly-once [RECORDS_PER_TRANSACTION]]\n".utf8))
    exit(64)
}
let exactlyOnce = arguments.count >= 5 && arguments[4] == "exactly-once"
let transactionRecords = arguments.count == 6 ? Int(arguments[5]) ?? 1000 : 1000
let lines = try Data(contentsOf: URL(fileURLWithPath: arguments[3])).split(separator: UInt8(ascii: "\n"))
let records = lines.enumerated().map { index, line in
    EncodedRecord(sequence: UInt64(index), key: String(index), bytes: Array(line))
}
// Exactly once, one record goes first in a poll of its own (below): the timed records are the next poll, numbered
// from 0 again, as every poll's are, and acknowledged to a tracker of their own.
let timed = exactlyOnce
    ? records.dropFirst().enumerated().map { EncodedRecord(sequence: UInt64($0.offset), key: $0.element.key, bytes: $0.element.bytes) }
    : records
let tracker = AcknowledgementTracker(sinkCount: 1)
for _ in timed { _ = tracker.register() }
let warmUp = AcknowledgementTracker(sinkCount: 1)
let router = AcknowledgementRouter()
// Timed from the first write to the producer closed (flushed and destroyed), like raw_producer.c.
let configuration = KafkaSinkConfiguration(
    brokers: arguments[1], topic: arguments[2],
    headers: [("content-type", "application/json"), ("threatpipe-format", "raw"), ("threatpipe-schema", "threatpipe.enriched-threat.v1")]
)
let sink: any RecordSink
if exactlyOnce {
    let checkpoints = CommitCheckpointSource()
    let checkpoint = Checkpoint(updatedAt: "2026-01-01T00:00:00.000000Z", idsAtUpdatedAt: ["bench"])
    checkpoints.use { _ in checkpoint }
    let document = Array(#"{"version":1,"consoleUrl":"bench","filters":[],"checkpoint":{"updatedAt":"2026-01-01T00:00:00.000000Z","idsAtUpdatedAt":["bench"]},"savedAt":"2026-01-01T00:00:00.000Z"}"#.utf8)
    sink = KafkaTransactionalSink(
        configuration: configuration, transactionalID: "bench-\(arguments[2])", limits: .init(records: transactionRecords, interval: .seconds(1)),
        checkpointRecords: .init(topic: "\(arguments[2]).checkpoints", source: checkpoints, record: { _ in ("bench", document) }),
        logger: Logger(label: "bench")
    )
} else {
    sink = KafkaSink(configuration: configuration, logger: Logger(label: "bench"))
}
router.route(to: exactlyOnce ? warmUp : tracker)
try await sink.open(acknowledger: router.acknowledger(forSink: 0))
if exactlyOnce {
    // The first transaction to a topic costs about a second against the mock cluster whatever its size (it creates
    // the topic then and answers its metadata at librdkafka's next one-second scan), as raw_producer.c's does:
    // start-up, not throughput, so one record is committed before the clock starts.
    _ = warmUp.register()
    try await sink.write(records[0])
    try await sink.flush()
    router.route(to: tracker)
}
let clock = ContinuousClock()
let started = clock.now
// Written from a task of the cooperative pool, as the pipeline's writer stage does (not from the main actor).
try await Task.detached {
    for record in timed { try await sink.write(record) }
    // The transactional sink acknowledges at commit (the end of a poll); the other at delivery.
    if exactlyOnce { try await sink.flush() }
    try await sink.close()
}.value
let seconds = (clock.now - started).inSeconds
guard tracker.snapshot.isComplete else {
    FileHandle.standardError.write(Data("not every record was acknowledged\n".utf8))
    exit(1)
}
let waits = await (sink as? KafkaSink)?.queueFullWaits ?? 0
print("records_per_second \(Int(Double(timed.count) / seconds)) queue_full_waits \(waits)")
