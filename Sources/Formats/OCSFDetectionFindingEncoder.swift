import Pipeline
import RawJSON

/// The `ocsf` format: each enriched threat as an OCSF 1.5.0 **Detection Finding** (class 2004, category Findings),
/// with the host and security-control profiles.
///
/// The mapping is documented field by field in docs/formats.md. Source fields copied verbatim are left out of
/// `unmapped`; everything else of the threat, the analysis's fields that differ from the threat's, and threatpipe's
/// enrichment status stay under `unmapped`, and every explore event is kept whole as an evidence's `data` — nothing
/// is lost.
public struct OCSFDetectionFindingEncoder: RecordEncoder {
    /// The schema id threatpipe publishes for this format (`schemas/ocsf-detection-finding.schema.json`).
    public static let schemaID = "threatpipe.ocsf-detection-finding.v1"
    /// The OCSF version the records follow.
    public static let ocsfVersion = "1.5.0"

    let consoleURL: String
    let now: @Sendable () -> RFC3339Timestamp

    public init(consoleURL: String, now: @escaping @Sendable () -> RFC3339Timestamp = { .now }) {
        self.consoleURL = consoleURL
        self.now = now
    }

    public func encode(_ enriched: EnrichedThreat) -> EncodedRecord {
        let exportedAt = now()
        let source = SourceThreat(enriched, format: "ocsf", schema: Self.schemaID, consoleURL: consoleURL, exportedAt: exportedAt)
        let finding = finding(source, exportedAt: exportedAt)
        return EncodedRecord(
            sequence: enriched.threat.sequence, key: enriched.threat.id, bytes: finding.serialized, updatedAt: enriched.threat.updatedAt
        )
    }

    func finding(_ source: SourceThreat, exportedAt: RFC3339Timestamp) -> JSONValue {
        let info = "threatInfo."
        let confidenceLevel = source.string(info + "confidenceLevel")
        let classification = source.string(info + "classification")
        let incidentStatus = source.string(info + "incidentStatus")
        let activity = OCSFEnumerations.activity(
            change: source.change, createdAt: source.string(info + "createdAt"), updatedAt: source.string(info + "updatedAt"),
            incidentStatus: incidentStatus
        )
        let newestAction = OCSFEnumerations.newestAction(source.value("mitigationStatus")?.arrayValue)
        let disposition = OCSFEnumerations.disposition(mitigationStatus: source.string(info + "mitigationStatus"), newestAction: newestAction)
        var members: [(String, JSONValue?)] = [
            ("metadata", metadata(source, exportedAt: exportedAt)),
            ("category_uid", 2), ("category_name", "Findings"),
            ("class_uid", 2004), ("class_name", "Detection Finding"),
        ]
        members += activity.members("activity")
        members += [
            ("type_uid", .int(200_400 + activity.id)), ("type_name", .string("Detection Finding: \(activity.caption)")),
            ("time", source.milliseconds(info + "updatedAt") ?? source.milliseconds(info + "createdAt") ?? .number(String(exportedAt.microseconds / 1000))),
            ("message", .string(source.summary)),
        ]
        members += OCSFEnumerations.severity(confidenceLevel: confidenceLevel, classification: classification).members("severity")
        members += OCSFEnumerations.confidence(confidenceLevel).members("confidence")
        members += OCSFEnumerations.status(incidentStatus).members("status")
        members += [("status_detail", source.string(info + "mitigationStatusDescription").map(JSONValue.string))]
        members += disposition.members("disposition")
        members += OCSFEnumerations.action(disposition: disposition).members("action")
        members += [
            ("is_alert", true),
            ("finding_info", findingInfo(source)),
            ("device", OCSFDevice.device(source)),
            ("evidences", evidences(source)),
            ("unmapped", unmapped(source)),
        ]
        return JSONValue.compact(members) ?? .object([])
    }

    private func metadata(_ source: SourceThreat, exportedAt: RFC3339Timestamp) -> JSONValue? {
        .compact([
            "version": .string(Self.ocsfVersion),
            "product": ["name": "Singularity", "vendor_name": "SentinelOne", "feature": ["name": "Threats"]],
            "uid": source.string("id").map(JSONValue.string),
            "correlation_uid": source.string("threatInfo.storyline").map(JSONValue.string),
            "original_time": source.string("threatInfo.updatedAt").map(JSONValue.string),
            "logged_time": source.milliseconds("threatInfo.createdAt"),
            "processed_time": .number(String(exportedAt.microseconds / 1000)),
            "tenant_uid": source.string("agentRealtimeInfo.accountId").map(JSONValue.string),
            "profiles": ["host", "security_control"],
            "log_provider": "threatpipe",
        ])
    }

    private func findingInfo(_ source: SourceThreat) -> JSONValue? {
        let engine = source.value("threatInfo.detectionEngines")?.arrayValue?.first
        let engineKey = engine?.at("key")?.stringValue
        let analyticType = OCSFEnumerations.analyticType(engine: engineKey)
        let analytic = engine.flatMap { engine in
            JSONValue.compact([
                "uid": .string(engineKey ?? "unknown"),
                "name": .string(engine.at("title")?.stringValue ?? engineKey ?? "Unknown"),
                "type_id": .int(analyticType.id),
                "type": .string(analyticType.caption),
                "category": source.string("threatInfo.detectionType").map(JSONValue.string),
            ])
        }
        let id = source.string("id") ?? ""
        return .compact([
            "uid": .string(id),
            "title": .string(source.string("threatInfo.threatName") ?? "SentinelOne threat \(id)"),
            "types": source.string("threatInfo.classification").map { [.string($0)] },
            "created_time": source.milliseconds("threatInfo.createdAt"),
            "modified_time": source.milliseconds("threatInfo.updatedAt"),
            "first_seen_time": source.milliseconds("threatInfo.identifiedAt"),
            "analytic": analytic,
            "attacks": attacks(source),
            "src_url": .string("\(consoleURL)/incidents/threats/\(id)/overview"),
            "data_sources": ["SentinelOne threats", "threat analysis", "Deep Visibility explore events"],
        ])
    }

    /// `indicators[].tactics[].techniques[]` from MITRE as ATT&CK entries: one per technique, with its tactic.
    private func attacks(_ source: SourceThreat) -> JSONValue? {
        var attacks: [JSONValue?] = []
        for (tactic, techniques) in source.mitreTactics {
            let tacticObject = JSONValue.compact(["name": tactic.at("name")])
            for technique in techniques {
                guard let name = technique.at("name")?.stringValue else { continue }
                attacks.append(.compact([
                    "tactic": tacticObject,
                    "technique": .compact(["uid": .string(name), "name": .string(name), "src_url": technique.at("link")]),
                ]))
            }
        }
        return .compactArray(attacks)
    }

    private func evidences(_ source: SourceThreat) -> JSONValue? {
        var evidences: [JSONValue?] = [OCSFEvidence.file(source), OCSFEvidence.process(source)]
        for event in source.events ?? [] { evidences.append(OCSFEvidence.event(event)) }
        return .compactArray(evidences)
    }

    /// Source fields copied verbatim into the finding; everything else of the threat stays under `unmapped` —
    /// including the times OCSF holds in milliseconds (`createdAt`, `identifiedAt`), whose microseconds would
    /// otherwise be lost. (`updatedAt` is verbatim in `metadata.original_time`.)
    static let mappedThreatPaths = [
        "id", "threatInfo.threatName", "threatInfo.filePath", "threatInfo.fileSize", "threatInfo.md5",
        "threatInfo.sha1", "threatInfo.sha256", "threatInfo.updatedAt", "threatInfo.storyline", "threatInfo.originatorProcess",
        "threatInfo.processUser", "threatInfo.initiatingUsername",
        "threatInfo.mitigationStatusDescription", "threatInfo.detectionType",
    ] + OCSFDevice.mappedPaths

    private func unmapped(_ source: SourceThreat) -> JSONValue? {
        .compact([
            "threat": source.threat.removing(paths: Self.mappedThreatPaths),
            "analysis": source.analysis?.membersDiffering(from: source.threat),
            "threatpipe": source.status,
        ])
    }
}
