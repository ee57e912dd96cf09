import RawJSON

/// The ECS `event.*` rules that depend on the threat: category and type by classification, the action, the message.
enum ECSEvent {
    /// `event.category` and `event.type` by `threatInfo.classification`: an exploit or a potentially unwanted program
    /// is a threat indicator (`[threat]`/`[indicator]`); every other classification — Malware, Ransomware, Trojan,
    /// Downloader, Infostealer, …, or none — is malware (`[malware]`/`[info]`). Elastic's integration sets nothing
    /// for classifications beyond its list of six; threatpipe files the rest as malware, which is what an EDR threat
    /// is, so that ECS's malware views find every threat.
    static func categoryAndType(classification: String?) -> (category: String, type: String) {
        switch classification?.lowercased() {
        case "exploit", "pua": ("threat", "indicator")
        default: ("malware", "info")
        }
    }

    /// `event.action`: the engines that detected the threat (`threatInfo.engines`), joined with commas, as Elastic's
    /// integration writes it.
    static func action(engines: JSONValue?) -> JSONValue? {
        let names = (engines?.arrayValue ?? []).compactMap(\.stringValue).filter { !$0.isEmpty }
        return names.isEmpty ? nil : .string(names.joined(separator: ","))
    }

    /// `message`: `Threat Detected: <threatName> (<confidenceLevel>)` when both are known (Elastic's wording, so a
    /// saved search on it keeps matching); otherwise the one-line summary the OCSF `message` carries.
    static func message(_ source: SourceThreat) -> String {
        if let name = source.string("threatInfo.threatName"), let confidence = source.string("threatInfo.confidenceLevel") {
            return "Threat Detected: \(name) (\(confidence))"
        }
        return source.summary
    }
}
