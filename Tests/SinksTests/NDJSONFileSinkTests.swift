import Foundation
import Pipeline
import Testing

@testable import Sinks

@Suite struct NDJSONFileSinkTests {
    private func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("threatpipe-sink-\(UUID().uuidString)")
            .appendingPathComponent("nested/dirs/\(name)").path
    }

    private func record(_ sequence: UInt64, _ text: String) -> EncodedRecord {
        EncodedRecord(sequence: sequence, key: "k\(sequence)", bytes: Array(text.utf8))
    }

    @Test func createsDirectoriesAppendsAndAcknowledgesOnlyWhenSynced() async throws {
        let path = temporaryPath("out.ndjson")
        let tracker = AcknowledgementTracker(sinkCount: 1)
        for _ in 0..<3 { _ = tracker.register() }
        let sink = NDJSONFileSink(path: path)
        try await sink.open(acknowledger: tracker.acknowledger(forSink: 0))
        try await sink.write(record(0, #"{"a":1}"#))
        try await sink.write(record(1, #"{"b":"\u2028"}"#))
        #expect(tracker.snapshot.acknowledgedCount == [0], "nothing is acknowledged before it is synced")
        try await sink.close()
        #expect(tracker.snapshot.lowWatermark == 2)

        let again = NDJSONFileSink(path: path)
        try await again.open(acknowledger: tracker.acknowledger(forSink: 0))
        try await again.write(record(2, #"{"c":3}"#))
        try await again.close()
        #expect(tracker.snapshot.isComplete)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"a\":1}\n{\"b\":\"\\u2028\"}\n{\"c\":3}\n")
    }

    @Test func syncsAndAcknowledgesAsItGoesPastTheThreshold() async throws {
        let path = temporaryPath("big.ndjson")
        let tracker = AcknowledgementTracker(sinkCount: 1)
        let sink = NDJSONFileSink(path: path, syncThreshold: 1)
        try await sink.open(acknowledger: tracker.acknowledger(forSink: 0))
        let line = "{\"pad\":\"" + String(repeating: "x", count: 300 * 1024) + "\"}"
        for _ in 0..<2 { try await sink.write(record(tracker.register(), line)) }
        #expect(tracker.snapshot.acknowledgedCount == [2], "a full buffer is written and synced before close")
        try await sink.close()
    }

    @Test func refusesARecordThatWouldSplitALine() async throws {
        let sink = NDJSONFileSink(path: temporaryPath("x.ndjson"))
        try await sink.open(acknowledger: AcknowledgementTracker(sinkCount: 1).acknowledger(forSink: 0))
        await #expect(throws: SinkError.self) { try await sink.write(record(0, "{\"a\":\n1}")) }
        try await sink.close()
    }

    @Test func unwritableLocationIsAClearError() async throws {
        let blocker = temporaryPath("file")
        try FileManager.default.createDirectory(
            atPath: (blocker as NSString).deletingLastPathComponent, withIntermediateDirectories: true
        )
        FileManager.default.createFile(atPath: blocker, contents: Data())
        let sink = NDJSONFileSink(path: blocker + "/under-a-file.ndjson")
        let error = await #expect(throws: SinkError.self) {
            try await sink.open(acknowledger: AcknowledgementTracker(sinkCount: 1).acknowledger(forSink: 0))
        }
        #expect(error?.message.contains("cannot") == true)
    }
}

@Suite struct NDJSONCrashRecoveryTests {
    @Test func anIncompleteLastLineLeftByACrashIsCutOff() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("threatpipe-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("out.ndjson").path
        try Data("{\"a\":1}\n{\"b\":2}\n{\"c\":".utf8).write(to: URL(fileURLWithPath: path))
        let sink = NDJSONFileSink(path: path)
        try await sink.open(acknowledger: AcknowledgementTracker(sinkCount: 1).acknowledger(forSink: 0))
        try await sink.write(EncodedRecord(sequence: 0, key: "c", bytes: Array("{\"c\":3}".utf8)))
        try await sink.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n")
    }
}
