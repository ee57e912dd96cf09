import Pipeline
import RawJSON

/// The `ecs` format: each enriched threat as an Elastic Common Schema 8.11 alert document, following the
/// conventions of Elastic's own SentinelOne integration (`event.kind: alert`, `threat.*`, `file.*`, `host.*`,
/// `process.*`, `related.*`), with the original threat, the analysis, the events and threatpipe's enrichment status
/// kept whole under `sentinel_one.*`.
public struct ECSAlertEncoder: RecordEncoder {
    /// The schema id threatpipe publishes for this format (`schemas/ecs-alert.schema.json`).
    public static let schemaID = "threatpipe.ecs-alert.v1"
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

    func document(_ source: SourceThreat, exportedAt: RFC3339Timestamp) -> JSONValue {
        let info = "threatInfo."
        let realtime = "agentRealtimeInfo."
        func text(_ path: String) -> JSONValue? { source.string(path).map(JSONValue.string) }
        let id = source.string("id") ?? ""
        let hashes = [text(info + "md5"), text(info + "sha1"), text(info + "sha256")]
        let ips = ECSHost.addresses(source)
        let users = [text(info + "processUser"), text(info + "initiatingUsername")]
        return JSONValue.compact([
            "@timestamp": text(info + "createdAt") ?? .string(exportedAt.formatted(fractionDigits: 6)),
            "ecs": ["version": .string(Self.ecsVersion)],
            "message": .string(source.summary),
            "event": .compact([
                "kind": "alert",
                "category": ["malware"],
                // `change` on a version where a tracked field changed (`run` with state; the change itself is
                // `sentinel_one.export.change`).
                "type": source.change?.kind == .changed ? ["info", "change"] : ["info"],
                "id": .string(id),
                "dataset": "sentinel_one.threat",
                "module": "sentinel_one",
                "provider": "SentinelOne",
                "action": text(info + "mitigationStatus"),
                "severity": .int(Self.severity(source.string(info + "confidenceLevel"))),
                "created": .string(exportedAt.formatted(fractionDigits: 6)),
                "start": text(info + "identifiedAt"),
                "reference": .string("\(consoleURL)/incidents/threats/\(id)/overview"),
            ]),
            "threat": threat(source),
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
                "command_line": text(info + "maliciousProcessArguments"),
                "user": .compact(["name": text(info + "processUser")]),
            ]),
            "user": .compact(["name": text(info + "initiatingUsername") ?? text(info + "processUser")]),
            "organization": .compact(["id": text(realtime + "accountId"), "name": text(realtime + "accountName")]),
            "observer": ["vendor": "SentinelOne", "product": "Singularity", "type": "edr"],
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

    /// MITRE tactics and techniques from the indicators, as ECS's parallel arrays.
    private func threat(_ source: SourceThreat) -> JSONValue? {
        var tactics: [JSONValue?] = []
        var techniqueIDs: [JSONValue?] = []
        var techniqueReferences: [JSONValue?] = []
        for (tactic, techniques) in source.mitreTactics {
            tactics.append(tactic.at("name"))
            for technique in techniques {
                techniqueIDs.append(technique.at("name"))
                techniqueReferences.append(technique.at("link"))
            }
        }
        guard !tactics.isEmpty || !techniqueIDs.isEmpty else { return nil }
        return .compact([
            "framework": "MITRE ATT&CK",
            "tactic": .compact(["name": Self.distinct(tactics)]),
            "technique": .compact(["id": Self.distinct(techniqueIDs), "name": Self.distinct(techniqueIDs), "reference": Self.distinct(techniqueReferences)]),
        ])
    }

    /// The present values, each once, in first-seen order; `nil` when there is none.
    static func distinct(_ values: [JSONValue?]) -> JSONValue? {
        var seen: [JSONValue] = []
        for case let value? in values where !seen.contains(value) { seen.append(value) }
        return seen.isEmpty ? nil : .array(seen)
    }
}
