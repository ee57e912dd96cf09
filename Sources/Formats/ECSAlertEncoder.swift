import Pipeline
import RawJSON

/// The `ecs` format: each enriched threat as an Elastic Common Schema 8.11 alert document, following the
/// conventions of Elastic's own SentinelOne integration (`event.kind: alert`, `threat.*`, `file.*`, `host.*`,
/// `process.*`, `related.*`), with the original threat, the analysis, the events and threatpipe's enrichment status
/// kept whole under `sentinel_one.*`.
public struct ECSAlertEncoder: RecordEncoder {
    /// The schema id threatpipe publishes for this format (`schemas/ecs-alert.v2.schema.json`; v1 in `ecs-alert.schema.json`).
    public static let schemaID = "threatpipe.ecs-alert.v2"
    /// The ECS version the documents follow.
    public static let ecsVersion = "8.11.0"

    let consoleURL: String
    let now: @Sendable () -> RFC3339Timestamp

    public init(consoleURL: String, now: @escaping @Sendable () -> RFC3339Timestamp = { .now }) {
        self.consoleURL = consoleURL
        self.now = now
    }

    public func encode(_ enriched: EnrichedThreat) -> EncodedRecord {
        let exportedAt = now()
        let source = SourceThreat(enriched, format: "ecs", schema: Self.schemaID, consoleURL: consoleURL, exportedAt: exportedAt)
        return EncodedRecord(
            sequence: enriched.threat.sequence, key: enriched.threat.id, bytes: document(source, exportedAt: exportedAt).serialized,
            updatedAt: enriched.threat.updatedAt
        )
    }

    /// The document. Times, the same instants as the other formats: `@timestamp` is the version's `updatedAt`
    /// (OCSF `time`), `event.start` the agent's `identifiedAt` (OCSF `finding_info.first_seen_time`), `event.created`
    /// the export (OCSF `metadata.processed_time`); `createdAt` stays in `sentinel_one.threat`.
    func document(_ source: SourceThreat, exportedAt: RFC3339Timestamp) -> JSONValue {
        let info = "threatInfo."
        let realtime = "agentRealtimeInfo."
        let detection = "agentDetectionInfo."
        func text(_ path: String) -> JSONValue? { source.string(path).map(JSONValue.string) }
        let id = source.string("id") ?? ""
        let hashes = [text(info + "md5"), text(info + "sha1"), text(info + "sha256")]
        let ips = ECSHost.addresses(source)
        let userName = text(detection + "agentLastLoggedInUserName") ?? text(info + "processUser")
        let users = [userName, text(info + "initiatingUsername"), text(info + "processUser")]
        let (category, type) = ECSEvent.categoryAndType(classification: source.string(info + "classification"))
        let exported = JSONValue.string(exportedAt.formatted(fractionDigits: 6))
        return JSONValue.compact([
            "@timestamp": text(info + "updatedAt") ?? text(info + "createdAt") ?? exported,
            "ecs": ["version": .string(Self.ecsVersion)],
            "message": .string(ECSEvent.message(source)),
            "event": .compact([
                "kind": "alert",
                "category": [.string(category)],
                // `change` on a version where a tracked field changed (`run` with state; the change itself is
                // `sentinel_one.export.change`).
                "type": source.change?.kind == .changed ? [.string(type), "change"] : [.string(type)],
                "id": .string(id),
                "dataset": "sentinel_one.threat",
                "module": "sentinel_one",
                "provider": "SentinelOne",
                "action": ECSEvent.action(engines: source.value(info + "engines")),
                "severity": .int(Self.severity(source.string(info + "confidenceLevel"))),
                "created": exported,
                "start": text(info + "identifiedAt"),
                "reference": .string("\(consoleURL)/incidents/threats/\(id)/overview"),
            ]),
            "threat": ECSThreat.threat(source),
            "file": .compact([
                "name": source.string(info + "filePath").map { .string(OCSFEvidence.baseName(of: $0)) } ?? text(info + "threatName"),
                "path": text(info + "filePath"),
                "size": source.value(info + "fileSize").flatMap { if case .number = $0 { $0 } else { nil } },
                "extension": source.string(info + "fileExtension").map { .string($0.lowercased()) },
                "hash": .compact(["md5": hashes[0], "sha1": hashes[1], "sha256": hashes[2]]),
                "code_signature": .compact([
                    "exists": source.string(info + "fileVerificationType").map { .bool($0.lowercased() != "notsigned") },
                    "valid": source.value(info + "isValidCertificate").flatMap { if case .bool = $0 { $0 } else { nil } },
                    "subject_name": text(info + "publisherName"),
                ]),
            ]),
            "host": ECSHost.host(source),
            "process": .compact([
                "name": text(info + "originatorProcess"),
                "command_line": source.commandLine.map(JSONValue.string),
                "user": .compact(["name": text(info + "processUser")]),
            ]),
            "user": .compact(["name": userName, "email": text(detection + "agentLastLoggedInUserMail")]),
            "group": .compact(["id": text(realtime + "groupId"), "name": text(realtime + "groupName")]),
            "container": .compact([
                "id": text("containerInfo.id"), "name": text("containerInfo.name"),
                "image": .compact(["name": text("containerInfo.image")]),
            ]),
            "organization": .compact(["id": text(realtime + "accountId"), "name": text(realtime + "accountName")]),
            "observer": .compact([
                "vendor": "SentinelOne", "product": "Singularity", "type": "edr", "version": text(realtime + "agentVersion"),
            ]),
            "related": .compact([
                "hash": Self.distinct(hashes),
                "ip": Self.distinct(ips),
                "user": Self.distinct(users),
                "hosts": Self.distinct([text(realtime + "agentComputerName")]),
            ]),
            "sentinel_one": .compact([
                "threat": source.threat,
                "analysis": source.analysis,
                "events": source.events.map(JSONValue.array),
                "export": source.status,
            ]),
        ]) ?? .object([])
    }

    /// `threatInfo.confidenceLevel` → `event.severity` on Elastic's risk-score scale (malicious 73, suspicious 47,
    /// anything else 21).
    static func severity(_ confidenceLevel: String?) -> Int {
        switch confidenceLevel?.lowercased() {
        case "malicious": 73
        case "suspicious": 47
        default: 21
        }
    }

    /// The present values, each once, in first-seen order; `nil` when there is none.
    static func distinct(_ values: [JSONValue?]) -> JSONValue? {
        var seen: [JSONValue] = []
        for case let value? in values where !seen.contains(value) { seen.append(value) }
        return seen.isEmpty ? nil : .array(seen)
    }
}
