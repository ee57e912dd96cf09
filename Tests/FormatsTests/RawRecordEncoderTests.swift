import Foundation
import Pipeline
import RawJSON
import Testing

@testable import Formats

@Suite struct RawRecordEncoderTests {
    let encoder = RawRecordEncoder(consoleURL: "https://console.example", now: { RFC3339Timestamp(microseconds: 1_700_000_000_250_000) })
    let threat = ListedThreat(
        sequence: 9, id: "225494730938493804", updatedAt: "2024-01-02T03:04:05.000006Z",
        json: Array(#"{"id":"225494730938493804","n":123456789012345678901,"s":"a\"b\u2028"}"#.utf8)
    )

    @Test func joinsThePartsUnchangedWithMetadata() throws {
        let events = ThreatEvents(joinedJSON: Array(#"{"e":1},{"e":2.50}"#.utf8), count: 2, totalItems: nil, truncated: false)
        let record = encoder.encode(EnrichedThreat(threat: threat, analysis: .fetched(Array(#"{"x":[]}"#.utf8)), events: .fetched(events)))
        #expect(record.sequence == 9)
        #expect(record.key == "225494730938493804")
        let value = try JSONValue.parse(record.bytes)
        #expect(value["threat"] == (try JSONValue.parse(threat.json)))
        #expect(value["analysis"] == ["x": []])
        #expect(value["events"] == [["e": 1], ["e": .number("2.50")]])
        let meta = try #require(value["meta"])
        #expect(meta["schema"] == "threatpipe.enriched-threat.v1")
        #expect(meta["threatId"] == "225494730938493804")
        #expect(meta["threatUpdatedAt"] == "2024-01-02T03:04:05.000006Z")
        #expect(meta["exportedAt"] == "2023-11-14T22:13:20.250000Z")
        #expect(meta["consoleUrl"] == "https://console.example")
        #expect(meta["analysis"] == ["status": "fetched"])
        #expect(meta["events"] == ["status": "fetched", "count": 2, "totalItems": nil, "truncated": false])
        let text = String(decoding: record.bytes, as: UTF8.self)
        #expect(text.hasPrefix(#"{"meta":{"schema":"threatpipe.enriched-threat.v1""#))
        #expect(text.contains(#","threat":{"id":"225494730938493804","n":123456789012345678901,"s":"a\"b\u2028"}"#))
    }

    @Test func missingPartsAreNullWithTheirErrorRecorded() throws {
        let record = encoder.encode(EnrichedThreat(
            threat: threat,
            analysis: .notFound(EnrichmentFailure(httpStatus: 404, message: "Threat ID 1 \"not\" found", requestID: "rq-7")),
            events: .failed(EnrichmentFailure(httpStatus: nil, message: "connection refused", requestID: nil))
        ))
        #expect(!record.bytes.contains(0x0A))
        let value = try JSONValue.parse(record.bytes)
        #expect(value["analysis"] == .null)
        #expect(value["events"] == .null)
        #expect(value["meta"]?["analysis"] == [
            "status": "not_found", "httpStatus": 404, "error": "Threat ID 1 \"not\" found", "requestId": "rq-7",
        ])
        #expect(value["meta"]?["events"] == ["status": "failed", "httpStatus": nil, "error": "connection refused", "requestId": nil])
    }

    @Test func truncatedEventsSayHowManyExist() throws {
        let events = ThreatEvents(joinedJSON: Array(#"{"e":1}"#.utf8), count: 1, totalItems: 1203, truncated: true)
        let value = try JSONValue.parse(encoder.encode(EnrichedThreat(threat: threat, analysis: .fetched(Array("{}".utf8)), events: .fetched(events))).bytes)
        #expect(value["meta"]?["events"] == ["status": "fetched", "count": 1, "totalItems": 1203, "truncated": true])
    }
}
