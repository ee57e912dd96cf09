import Pipeline
import Testing

@testable import Sinks

@Suite struct LineBufferTests {
    @Test func gathersRecordsAsLinesWithTheirSequences() throws {
        var buffer = LineBuffer(path: "test")
        try buffer.append(EncodedRecord(sequence: 4, key: "a", bytes: Array(#"{"a":1}"#.utf8)))
        try buffer.append(EncodedRecord(sequence: 9, key: "b", bytes: []))
        let taken = buffer.take()
        let lines = try #require(taken)
        #expect(String(decoding: lines.bytes, as: UTF8.self) == "{\"a\":1}\n\n")
        #expect(lines.sequences == [4, 9])
        let nothingLeft = buffer.take()
        #expect(nothingLeft == nil)
    }

    @Test func refusesARecordThatWouldSplitItsLine() {
        var buffer = LineBuffer(path: "test")
        for text in ["\n", "{\"a\":1}\n", String(repeating: "x", count: 40_000) + "\n" + "y"] {
            #expect(throws: SinkError.self) {
                try buffer.append(EncodedRecord(sequence: 0, key: "k", bytes: Array(text.utf8)))
            }
        }
        #expect(buffer.byteCount == 0)
    }
}
