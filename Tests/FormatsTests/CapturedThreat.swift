import Foundation
import Pipeline
import RawJSON

/// The real captures of `get-threat-analysis.md` and `get-threat-events.md` as an enriched threat: the analysis's
/// threat-shaped `data` plays the listed threat, and the two captured events are its events.
enum CapturedThreat {
    static let id = "1311010474425970168"
    static let exportedAt = RFC3339Timestamp(microseconds: 1_700_000_000_250_000)

    static func enriched(analysis: Bool = true, events: Bool = true) throws -> EnrichedThreat {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../SentinelOneTests/Fixtures")
        let analysisData = try JSONValue.parse(Data(contentsOf: fixtures.appendingPathComponent("analysis-capture.json")))["data"]!
        let eventsData = try JSONValue.parse(Data(contentsOf: fixtures.appendingPathComponent("explore-events-capture.json")))["data"]!
        // A list item carries the threat's `id` at the top; the analysis's `data` does not.
        guard case .object(let members) = analysisData else { throw CaptureUnreadable() }
        let threat = JSONValue.object([JSONMember("id", .string(id))] + members)
        let joined = eventsData.arrayValue!.map { $0.serialized }.joined(separator: [UInt8(ascii: ",")])
        return EnrichedThreat(
            threat: ListedThreat(sequence: 1, id: id, updatedAt: "2021-12-14T20:23:47.481644Z", json: threat.serialized),
            analysis: analysis ? .fetched(analysisData.serialized) : .failed(EnrichmentFailure(httpStatus: 503, message: "unavailable", requestID: "rq-1")),
            events: events ? .fetched(ThreatEvents(joinedJSON: Array(joined), count: 2, totalItems: 2)) : .notFound(EnrichmentFailure(httpStatus: 404, message: "gone"))
        )
    }

    struct CaptureUnreadable: Error {}

    /// A threat with only an id and the given `threatInfo` members: for enum edge cases.
    static func minimal(threatInfo: JSONValue = [:], extra: [JSONMember] = []) -> EnrichedThreat {
        let threat = JSONValue.object([JSONMember("id", "42"), JSONMember("threatInfo", threatInfo)] + extra)
        return EnrichedThreat(
            threat: ListedThreat(id: "42", updatedAt: nil, json: threat.serialized),
            analysis: .notFound(EnrichmentFailure(httpStatus: 404, message: "gone")),
            events: .fetched(ThreatEvents())
        )
    }
}
