import Emulator
import Foundation
import RawJSON
import Testing

/// Checks an export's lines against what the emulator serves: every threat once, each part equal to the API's.
enum RecordExpectations {
    /// The threat version a record carries: its threat's id and `threatInfo.updatedAt`.
    static func version(_ record: JSONValue) throws -> ServedVersion {
        ServedVersion(
            id: try #require(record["threat"]?["id"]?.stringValue),
            updatedAt: try #require(record["threat"]?["threatInfo"]?["updatedAt"]?.stringValue)
        )
    }

    static func lines(_ data: Data) -> [[UInt8]] {
        Array(data).split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map(Array.init)
    }

    /// Returns the records by threat id after checking each against the dataset.
    @discardableResult
    static func verify(
        _ data: Data,
        against dataset: ThreatDataset,
        expectedCount: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [String: JSONValue] {
        #expect(data.last == 0x0A, "the output ends with a newline", sourceLocation: sourceLocation)
        let lines = lines(data)
        #expect(lines.count == expectedCount, sourceLocation: sourceLocation)
        var records: [String: JSONValue] = [:]
        for line in lines {
            let record = try JSONValue.parse(line)
            let id = try #require(record["meta"]?["threatId"]?.stringValue, sourceLocation: sourceLocation)
            #expect(records[id] == nil, "threat \(id) appears twice", sourceLocation: sourceLocation)
            records[id] = record
            let index = try #require(dataset.index(ofID: id), "unknown threat \(id)", sourceLocation: sourceLocation)
            #expect(record["threat"] == dataset.listItem(at: index), "threat \(id)", sourceLocation: sourceLocation)
            if dataset.isDeleted(at: index) {
                #expect(record["analysis"] == .null, sourceLocation: sourceLocation)
                #expect(record["events"] == .null, sourceLocation: sourceLocation)
                #expect(record["meta"]?["analysis"]?["status"] == "not_found", sourceLocation: sourceLocation)
                #expect(record["meta"]?["events"]?["status"] == "not_found", sourceLocation: sourceLocation)
            } else {
                #expect(record["analysis"] == dataset.analysis(at: index), "analysis \(id)", sourceLocation: sourceLocation)
                let events = JSONValue.array((0..<dataset.eventCount(at: index)).map { dataset.event(threat: index, number: $0) })
                #expect(record["events"] == events, "events \(id)", sourceLocation: sourceLocation)
            }
        }
        return records
    }
}
