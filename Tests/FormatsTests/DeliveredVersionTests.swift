import Audit
import Formats
import Pipeline
import RawJSON
import Testing

/// `audit` reads back every format threatpipe writes: the threat's id and version, whether enrichment failed, its site.
struct DeliveredVersionTests {
    @Test(arguments: OutputFormat.allCases) func everyFormatIsReadBack(_ format: OutputFormat) throws {
        let encoder = format.encoder(consoleURL: "https://console.example")
        let failed = try DeliveredVersion(record: encoder.encode(try CapturedThreat.enriched(analysis: false)).bytes)
        #expect(failed.id == CapturedThreat.id)
        #expect(failed.updatedAt == RFC3339Timestamp("2021-12-14T20:23:47.481644Z"))
        #expect(!failed.isComplete, "the analysis failed")
        #expect(failed.format == format.rawValue)
        // A part not found (the threat deleted meanwhile) is not an incomplete record.
        let notFound = try DeliveredVersion(record: encoder.encode(try CapturedThreat.enriched(events: false)).bytes)
        #expect(notFound.isComplete)
        let raw = try DeliveredVersion(record: OutputFormat.raw.encoder(consoleURL: "https://console.example").encode(try CapturedThreat.enriched()).bytes)
        #expect(failed.siteID == raw.siteID && raw.siteID != nil, "the site, wherever the format keeps it")
    }

    @Test func aLineThatIsNotAThreatpipeRecordIsAnError() {
        #expect(throws: AuditError.self) { try DeliveredVersion(record: Array(#"{"id":"1"}"#.utf8)) }
        #expect(throws: (any Error).self) { try DeliveredVersion(record: Array("not json".utf8)) }
    }
}
