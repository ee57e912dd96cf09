import Pipeline
import RawJSON

/// SentinelOne's enumerated values as OCSF 1.5.0 enum ids with their captions. A value no table knows maps to
/// `99 Other` carrying the source text; a missing value maps to `0 Unknown`. Nothing here can fail.
enum OCSFEnumerations {
    /// An OCSF enum value: the id and its caption (or the source text, for `Other`).
    struct Choice: Equatable {
        var id: Int
        var caption: String
    }

    private static func choose(_ source: String?, _ table: [String: Choice]) -> Choice {
        guard let source, !source.isEmpty else { return Choice(id: 0, caption: "Unknown") }
        return table[source.lowercased()] ?? Choice(id: 99, caption: source)
    }

    /// `threatInfo.confidenceLevel` → `confidence_id`.
    static func confidence(_ level: String?) -> Choice {
        choose(level, [
            "malicious": Choice(id: 3, caption: "High"),
            "suspicious": Choice(id: 2, caption: "Medium"),
            "n/a": Choice(id: 0, caption: "Unknown"),
        ])
    }

    /// `threatInfo.confidenceLevel` and `threatInfo.classification` → `severity_id`: malicious is High, malicious
    /// ransomware Critical, suspicious Medium.
    static func severity(confidenceLevel level: String?, classification: String?) -> Choice {
        if level?.lowercased() == "malicious", classification?.lowercased() == "ransomware" {
            return Choice(id: 5, caption: "Critical")
        }
        return choose(level, [
            "malicious": Choice(id: 4, caption: "High"),
            "suspicious": Choice(id: 3, caption: "Medium"),
            "n/a": Choice(id: 1, caption: "Informational"),
        ])
    }

    /// `threatInfo.incidentStatus` → `status_id`.
    static func status(_ incidentStatus: String?) -> Choice {
        choose(incidentStatus, [
            "unresolved": Choice(id: 1, caption: "New"),
            "in_progress": Choice(id: 2, caption: "In Progress"),
            "resolved": Choice(id: 4, caption: "Resolved"),
        ])
    }

    /// The finding's activity. From the change, when the run keeps state: Create for a new threat, Close on the
    /// transition to resolved (once), Update for any other version. Without state, or when no earlier version is
    /// known, from the threat itself: Close once resolved, Create while never updated, Update otherwise.
    static func activity(change: ThreatChange?, createdAt: String?, updatedAt: String?, incidentStatus: String?) -> Choice {
        if let change, change.kind != .unknown {
            if change.kind == .new { return Choice(id: 1, caption: "Create") }
            return change.closes ? Choice(id: 3, caption: "Close") : Choice(id: 2, caption: "Update")
        }
        if incidentStatus?.lowercased() == "resolved" { return Choice(id: 3, caption: "Close") }
        if createdAt == nil || updatedAt == nil || RFC3339Timestamp.sameInstant(createdAt, updatedAt) { return Choice(id: 1, caption: "Create") }
        return Choice(id: 2, caption: "Update")
    }

    /// The newest of the mitigation actions run (`mitigationStatus[]`): the one with the latest `lastUpdate`, else
    /// the first — the console lists them newest first (a threat killed, quarantined, then remediated is Corrected,
    /// not Blocked, which the last element said).
    static func newestAction(_ actions: [JSONValue]?) -> String? {
        guard let actions, !actions.isEmpty else { return nil }
        var newest = actions[0]
        var newestTime = actions[0].at("lastUpdate")?.stringValue.flatMap { RFC3339Timestamp($0) }
        for action in actions.dropFirst() {
            guard let time = action.at("lastUpdate")?.stringValue.flatMap({ RFC3339Timestamp($0) }) else { continue }
            if newestTime.map({ time > $0 }) ?? true {
                newest = action
                newestTime = time
            }
        }
        return newest.at("action")?.stringValue
    }

    /// `threatInfo.mitigationStatus` (and, when mitigated, the newest mitigation action) → `disposition_id`.
    static func disposition(mitigationStatus: String?, newestAction: String?) -> Choice {
        if mitigationStatus?.lowercased() == "mitigated" {
            return choose(newestAction, [
                "kill": Choice(id: 2, caption: "Blocked"),
                "quarantine": Choice(id: 3, caption: "Quarantined"),
                "network_quarantine": Choice(id: 4, caption: "Isolated"),
                "remediate": Choice(id: 11, caption: "Corrected"),
                "rollback": Choice(id: 9, caption: "Restored"),
            ]).replacingUnknown(with: Choice(id: 11, caption: "Corrected"))
        }
        return choose(mitigationStatus, [
            "not_mitigated": Choice(id: 15, caption: "Detected"),
            "marked_as_benign": Choice(id: 10, caption: "Exonerated"),
            "partially_mitigated": Choice(id: 12, caption: "Partially Corrected"),
            "mitigation_failed": Choice(id: 13, caption: "Uncorrected"),
        ])
    }

    /// The disposition → `action_id`: Denied when the threat was stopped, Allowed when it was only detected.
    static func action(disposition: Choice) -> Choice {
        switch disposition.id {
        case 2, 3, 4, 9, 11, 12: return Choice(id: 2, caption: "Denied")
        case 10, 13, 15: return Choice(id: 1, caption: "Allowed")
        default: return Choice(id: 0, caption: "Unknown")
        }
    }

    /// A detection engine key (`threatInfo.detectionEngines[].key`) → the analytic's `type_id`.
    static func analyticType(engine: String?) -> Choice {
        let learning = Choice(id: 4, caption: "Learning (ML/DL)")
        let behavioral = Choice(id: 2, caption: "Behavioral")
        let rule = Choice(id: 1, caption: "Rule")
        let fingerprint = Choice(id: 5, caption: "Fingerprinting")
        return choose(engine, [
            "pre_execution": learning, "pre_execution_suspicious": learning, "data_files": learning, "pup": learning,
            "executables": behavioral, "exploits": behavioral, "lateral_movement": behavioral,
            "penetration": behavioral, "intrusion_detection": behavioral,
            "reputation": fingerprint, "sentinelone_cloud": fingerprint,
            "user_blacklist": rule, "application_control": rule, "star": rule, "star_manual": rule, "custom_rule": rule,
        ])
    }

    /// `agentRealtimeInfo.agentMachineType` → the device `type_id`.
    static func deviceType(_ machineType: String?) -> Choice {
        choose(machineType, [
            "server": Choice(id: 1, caption: "Server"),
            "desktop": Choice(id: 2, caption: "Desktop"),
            "laptop": Choice(id: 3, caption: "Laptop"),
            "unknown": Choice(id: 0, caption: "Unknown"),
        ])
    }

    /// `agentRealtimeInfo.agentOsType` → the operating system `type_id`.
    static func operatingSystemType(_ osType: String?) -> Choice {
        choose(osType, [
            "windows": Choice(id: 100, caption: "Windows"),
            "windows_legacy": Choice(id: 100, caption: "Windows"),
            "linux": Choice(id: 200, caption: "Linux"),
            "macos": Choice(id: 300, caption: "macOS"),
            "android": Choice(id: 201, caption: "Android"),
            "ios": Choice(id: 301, caption: "iOS"),
        ])
    }

    /// `threatInfo.fileVerificationType` → the signature `state_id`; `nil` for an unsigned file.
    static func signatureState(verification: String?, isValidCertificate: Bool?) -> Choice? {
        guard let verification, !verification.isEmpty, verification.lowercased() != "notsigned" else { return nil }
        if verification.lowercased() == "signedverified" || isValidCertificate == true {
            return Choice(id: 1, caption: "Valid")
        }
        return Choice(id: 99, caption: verification)
    }
}

extension OCSFEnumerations.Choice {
    fileprivate func replacingUnknown(with other: Self) -> Self { id == 0 || id == 99 ? other : self }

    /// `{"<name>_id": id, "<name>": caption}` members.
    func members(_ name: String) -> [(String, JSONValue?)] {
        [(name + "_id", .int(id)), (name, .string(caption))]
    }
}
