import Pipeline
import RawJSON

/// The `raw` format: the API's JSON values unchanged, joined into one object per threat —
/// `{"meta":{…},"threat":{…},"analysis":{…}|null,"events":[…]|null}`.
///
/// The values are spliced from the API's bytes, so every field, known or not, and every number keeps its exact
/// text. `meta` says what threatpipe did: schema, ids, export time, console, and the status of each enrichment part.
public struct RawRecordEncoder: RecordEncoder {
    /// The schema id written into every record's `meta.schema`.
    public static let schemaID = "threatpipe.enriched-threat.v1"

    let consoleURL: String
    let now: @Sendable () -> RFC3339Timestamp

    public init(consoleURL: String, now: @escaping @Sendable () -> RFC3339Timestamp = { .now }) {
        self.consoleURL = consoleURL
        self.now = now
    }

    public func encode(_ enriched: EnrichedThreat) -> EncodedRecord {
        let threat = enriched.threat
        var out: [UInt8] = []
        out.reserveCapacity(
            threat.json.count + (enriched.analysis.value?.count ?? 0)
                + (enriched.events.value?.byteCount ?? 0) + 512
        )
        out.append(contentsOf: Self.metaOpen)
        JSONSplicer.appendString(threat.id, to: &out)
        out.append(contentsOf: Self.updatedAtKey)
        if let updatedAt = threat.updatedAt { JSONSplicer.appendString(updatedAt, to: &out) } else { out.append(contentsOf: Self.null) }
        out.append(contentsOf: Self.versionIDKey)
        JSONSplicer.appendString(EncodedRecord.versionID(id: threat.id, updatedAt: threat.updatedAt), to: &out)
        out.append(contentsOf: Self.exportedAtKey)
        JSONSplicer.appendString(now().formatted(fractionDigits: 6), to: &out)
        out.append(contentsOf: Self.consoleURLKey)
        JSONSplicer.appendString(consoleURL, to: &out)

        out.append(contentsOf: Self.analysisStatusKey)
        appendStatus(of: enriched.analysis, to: &out)
        out.append(UInt8(ascii: "}"))

        out.append(contentsOf: Self.eventsStatusKey)
        appendStatus(of: enriched.events, to: &out)
        if let events = enriched.events.value {
            out.append(contentsOf: Self.countKey)
            out.append(contentsOf: String(events.count).utf8)
            out.append(contentsOf: Self.totalItemsKey)
            if let total = events.totalItems { out.append(contentsOf: String(total).utf8) } else { out.append(contentsOf: Self.null) }
            out.append(contentsOf: Self.truncatedKey)
            out.append(contentsOf: events.truncated ? Self.trueBytes : Self.falseBytes)
        }
        out.append(UInt8(ascii: "}"))
        if let change = enriched.change {
            out.append(contentsOf: Self.changeKey)
            change.appendJSON(to: &out)
        }
        if let attempt = threat.reenrichmentAttempt {
            out.append(contentsOf: Self.reenrichedKey)
            out.append(contentsOf: String(attempt).utf8)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "}"))

        out.append(contentsOf: Self.threatKey)
        out.append(contentsOf: threat.json)
        out.append(contentsOf: Self.analysisKey)
        if let analysis = enriched.analysis.value { out.append(contentsOf: analysis) } else { out.append(contentsOf: Self.null) }
        out.append(contentsOf: Self.eventsKey)
        if let events = enriched.events.value {
            out.append(UInt8(ascii: "["))
            events.appendJoined(to: &out)
            out.append(UInt8(ascii: "]"))
        } else {
            out.append(contentsOf: Self.null)
        }
        out.append(UInt8(ascii: "}"))
        return EncodedRecord(sequence: threat.sequence, key: threat.id, bytes: out, updatedAt: threat.updatedAt)
    }

    /// `"status":"…"` and, for a failure, `,"httpStatus":…,"error":"…","requestId":"…"`.
    private func appendStatus<Value>(of outcome: EnrichmentOutcome<Value>, to out: inout [UInt8]) {
        switch outcome {
        case .fetched: out.append(contentsOf: Self.fetched)
        case .notFound: out.append(contentsOf: Self.notFound)
        // A stopped part's threat is withdrawn before encoding, a part not requested belongs to a record sent unencoded;
        // were one encoded, it would say failed.
        case .failed, .stopped, .notRequested: out.append(contentsOf: Self.failed)
        }
        guard let failure = outcome.failure else { return }
        out.append(contentsOf: Self.httpStatusKey)
        if let status = failure.httpStatus { out.append(contentsOf: String(status).utf8) } else { out.append(contentsOf: Self.null) }
        out.append(contentsOf: Self.errorKey)
        JSONSplicer.appendString(failure.message, to: &out)
        out.append(contentsOf: Self.requestIDKey)
        if let requestID = failure.requestID { JSONSplicer.appendString(requestID, to: &out) } else { out.append(contentsOf: Self.null) }
    }

    private static let metaOpen = Array("{\"meta\":{\"schema\":\"\(schemaID)\",\"format\":\"raw\",\"threatId\":".utf8)
    private static let updatedAtKey = Array(",\"threatUpdatedAt\":".utf8)
    private static let versionIDKey = Array(",\"versionId\":".utf8)
    private static let exportedAtKey = Array(",\"exportedAt\":".utf8)
    private static let consoleURLKey = Array(",\"consoleUrl\":".utf8)
    private static let analysisStatusKey = Array(",\"analysis\":{".utf8)
    private static let eventsStatusKey = Array(",\"events\":{".utf8)
    private static let countKey = Array(",\"count\":".utf8)
    private static let totalItemsKey = Array(",\"totalItems\":".utf8)
    private static let truncatedKey = Array(",\"truncated\":".utf8)
    private static let changeKey = Array(",\"change\":".utf8)
    private static let reenrichedKey = Array(",\"reenriched\":{\"attempt\":".utf8)
    private static let threatKey = Array(",\"threat\":".utf8)
    private static let analysisKey = Array(",\"analysis\":".utf8)
    private static let eventsKey = Array(",\"events\":".utf8)
    private static let fetched = Array("\"status\":\"fetched\"".utf8)
    private static let notFound = Array("\"status\":\"not_found\"".utf8)
    private static let failed = Array("\"status\":\"failed\"".utf8)
    private static let httpStatusKey = Array(",\"httpStatus\":".utf8)
    private static let errorKey = Array(",\"error\":".utf8)
    private static let requestIDKey = Array(",\"requestId\":".utf8)
    private static let null = Array("null".utf8)
    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)
}
