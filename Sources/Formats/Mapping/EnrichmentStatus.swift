import Pipeline
import RawJSON

/// What threatpipe did for one record, as a JSON object: the same facts as the raw format's `meta`.
enum EnrichmentStatus {
    static func object(
        of enriched: EnrichedThreat,
        format: String,
        schema: String,
        consoleURL: String,
        exportedAt: RFC3339Timestamp
    ) -> JSONValue {
        var events = status(of: enriched.events)
        if let value = enriched.events.value, case .object(var members) = events {
            members.append(JSONMember("count", .int(value.count)))
            members.append(JSONMember("totalItems", value.totalItems.map(JSONValue.int) ?? .null))
            members.append(JSONMember("truncated", .bool(value.truncated)))
            events = .object(members)
        }
        var object: JSONValue = [
            "schema": .string(schema),
            "format": .string(format),
            "threatId": .string(enriched.threat.id),
            "threatUpdatedAt": enriched.threat.updatedAt.map(JSONValue.string) ?? .null,
            "versionId": .string(EncodedRecord.versionID(id: enriched.threat.id, updatedAt: enriched.threat.updatedAt)),
            "exportedAt": .string(exportedAt.formatted(fractionDigits: 6)),
            "consoleUrl": .string(consoleURL),
            "analysis": status(of: enriched.analysis),
            "events": events,
        ]
        if let change = enriched.change, case .object(var members) = object {
            members.append(JSONMember("change", change.jsonValue))
            object = .object(members)
        }
        if let attempt = enriched.threat.reenrichmentAttempt, case .object(var members) = object {
            members.append(JSONMember("reenriched", ["attempt": .int(attempt)]))
            object = .object(members)
        }
        return object
    }

    private static func status<Value>(of outcome: EnrichmentOutcome<Value>) -> JSONValue {
        let name: String
        switch outcome {
        case .fetched: name = "fetched"
        case .notFound: name = "not_found"
        case .failed, .stopped, .notRequested: name = "failed"
        }
        guard let failure = outcome.failure else { return ["status": .string(name)] }
        return [
            "status": .string(name),
            "httpStatus": failure.httpStatus.map(JSONValue.int) ?? .null,
            "error": .string(failure.message),
            "requestId": failure.requestID.map(JSONValue.string) ?? .null,
        ]
    }
}
