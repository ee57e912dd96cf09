// The Kafka sink benchmark: records/s through threatpipe's KafkaSink (produce, wait on a full queue, acknowledge on
// delivery report, flush on close), with its default settings, to compare with raw_producer.c sending the same
// bytes with the same settings.
//
// Usage: KafkaSinkBenchmark BROKERS TOPIC RECORDS.ndjson
// Prints `records_per_second N`.
import Durations
import Foundation
import Logging
import Pipeline
import Sinks

let arguments = CommandLine.arguments
guard arguments.count == 4 else {
    FileHandle.standardError.write(Data("usage: KafkaSinkBenchmark BROKERS TOPIC RECORDS.ndjson\n".utf8))
    exit(64)
}
let lines = try Data(contentsOf: URL(fileURLWithPath: arguments[3])).split(separator: UInt8(ascii: "\n"))
let records = lines.enumerated().map { index, line in
    EncodedRecord(sequence: UInt64(index), key: String(index), bytes: Array(line))
}
let tracker = AcknowledgementTracker(sinkCount: 1)
for _ in records { _ = tracker.register() }
// Timed from the first write to the producer closed (flushed and destroyed), like raw_producer.c.
let sink = KafkaSink(
    configuration: KafkaSinkConfiguration(
        brokers: arguments[1], topic: arguments[2],
        headers: [("content-type", "application/json"), ("threatpipe-format", "raw"), ("threatpipe-schema", "threatpipe.enriched-threat.v1")]
    ),
    logger: Logger(label: "bench")
)
try await sink.open(acknowledger: tracker.acknowledger(forSink: 0))
let clock = ContinuousClock()
let started = clock.now
// Written from a task of the cooperative pool, as the pipeline's writer stage does (not from the main actor).
try await Task.detached {
    for record in records { try await sink.write(record) }
    try await sink.close()
}.value
let seconds = (clock.now - started).inSeconds
guard tracker.snapshot.isComplete else {
    FileHandle.standardError.write(Data("not every record was acknowledged\n".utf8))
    exit(1)
}
print("records_per_second \(Int(Double(records.count) / seconds)) queue_full_waits \(await sink.queueFullWaits)")
