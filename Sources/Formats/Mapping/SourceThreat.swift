import Pipeline
import RawJSON

/// An enriched threat parsed for the mapped formats (OCSF, ECS): the threat, its analysis and its events as
/// literal-preserving values, with typed readers for the mappings.
struct SourceThreat {
    let threat: JSONValue
    /// `nil` when the analysis was not fetched (see `status`).
    let analysis: JSONValue?
    /// `nil` when the events were not fetched.
    let events: [JSONValue]?
    /// What threatpipe did: enrichment statuses, counts, export time, console.
    let status: JSONValue
    /// What changed since the version delivered before (`run` with state).
    let change: ThreatChange?

    /// Parses `enriched`; a part that is not valid JSON is kept as a string under `status` rather than lost.
    init(_ enriched: EnrichedThreat, format: String, schema: String, consoleURL: String, exportedAt: RFC3339Timestamp) {
        threat = (try? JSONValue.parse(enriched.threat.json)) ?? .object([])
        change = enriched.change
        analysis = enriched.analysis.value.flatMap { try? JSONValue.parse($0) }
        events = enriched.events.value.flatMap { events in
            var array = [UInt8(ascii: "[")]
            array.reserveCapacity(events.byteCount + 2)
            events.appendJoined(to: &array)
            array.append(UInt8(ascii: "]"))
            return (try? JSONValue.parse(array))?.arrayValue
        }
        status = EnrichmentStatus.object(
            of: enriched, format: format, schema: schema, consoleURL: consoleURL, exportedAt: exportedAt
        )
    }

    /// The value at a dotted path in the threat, `nil` for a missing member or JSON `null`.
    func value(_ path: String) -> JSONValue? {
        threat.at(path)
    }

    /// The string at `path`, `nil` when missing, null or empty.
    func string(_ path: String) -> String? {
        guard case .string(let text)? = value(path), !text.isEmpty else { return nil }
        return text
    }

    /// One line for people: `malicious Ransomware threat invoice.pdf.exe on host-7`.
    var summary: String {
        let what = [string("threatInfo.confidenceLevel"), string("threatInfo.classification")].compactMap { $0 }.joined(separator: " ")
        let name = string("threatInfo.threatName") ?? string("id") ?? "threat"
        let host = string("agentRealtimeInfo.agentComputerName").map { " on \($0)" } ?? ""
        return (what.isEmpty ? "" : what + " threat ") + name + host
    }

    /// The whole command line of the threat's process, when the console gives it: the `processCmd` of the first
    /// explore event of the originating process (`processName` = `threatInfo.originatorProcess`). The threat's own
    /// `maliciousProcessArguments` holds the arguments only, so it is never offered as a command line.
    var commandLine: String? {
        guard let process = string("threatInfo.originatorProcess") else { return nil }
        for event in events ?? [] where event.at("processName")?.stringValue == process {
            if let line = event.at("processCmd")?.stringValue, !line.isEmpty { return line }
        }
        return nil
    }

    /// Every tactic of the indicators (`indicators[].tactics[]`), with its `source` (nil when missing or empty) and its
    /// techniques.
    var tactics: [(tactic: JSONValue, source: String?, techniques: [JSONValue])] {
        (value("indicators")?.arrayValue ?? []).flatMap { indicator in
            (indicator.at("tactics")?.arrayValue ?? []).map { tactic in
                (tactic, tactic.text("source")?.stringValue, tactic.at("techniques")?.arrayValue ?? [])
            }
        }
    }

    /// The MITRE ATT&CK tactics of the indicators (those whose `source` is MITRE), each with its techniques.
    var mitreTactics: [(tactic: JSONValue, techniques: [JSONValue])] {
        tactics.filter { $0.source.map(Self.isMITRE) ?? false }.map { ($0.tactic, $0.techniques) }
    }

    static func isMITRE(_ source: String) -> Bool { source.uppercased() == "MITRE" }

    /// The IP addresses at `path`: the console writes several comma-separated in one string
    /// (`agentDetectionInfo.agentIpV4` = `10.32.0.165,172.18.0.1`).
    func addresses(_ path: String) -> [String] {
        (string(path) ?? "").split(separator: ",").map { String($0.filter { $0 != " " }) }.filter { !$0.isEmpty }
    }

    /// The instant at `path` in milliseconds since the epoch (OCSF's timestamp type).
    func milliseconds(_ path: String) -> JSONValue? {
        guard let text = string(path), let instant = RFC3339Timestamp(text) else { return nil }
        return .number(String(instant.microseconds / 1000))
    }
}

extension JSONValue {
    /// The value at a dotted path, `nil` for a missing member or JSON `null`.
    func at(_ path: String) -> JSONValue? {
        var current = self
        for key in path.split(separator: ".") {
            guard let next = current[String(key)] else { return nil }
            current = next
        }
        return current == .null ? nil : current
    }

    /// An object of the members whose value is present: `nil`, `null`, `{}` and `[]` are left out, so that a
    /// mapped record never claims a field the source did not have.
    static func compact(_ members: KeyValuePairs<String, JSONValue?>) -> JSONValue? {
        compact(members.map { ($0.key, $0.value) })
    }

    /// As ``compact(_:)-KeyValuePairs``, from a list built in steps.
    static func compact(_ members: [(String, JSONValue?)]) -> JSONValue? {
        let kept = members.compactMap { key, value -> JSONMember? in
            guard let value, !value.isEmptyish else { return nil }
            return JSONMember(key, value)
        }
        return kept.isEmpty ? nil : .object(kept)
    }

    /// An array of the present elements, `nil` when none is.
    static func compactArray(_ elements: [JSONValue?]) -> JSONValue? {
        let kept = elements.compactMap { $0 }.filter { !$0.isEmptyish }
        return kept.isEmpty ? nil : .array(kept)
    }

    var isEmptyish: Bool {
        switch self {
        case .null: return true
        case .object(let members): return members.isEmpty
        case .array(let elements): return elements.isEmpty
        default: return false
        }
    }

    /// This object without the members at `paths` (dotted); objects left empty are removed too. Used to keep
    /// under `unmapped` exactly what a mapping did not carry over.
    func removing(paths: [String]) -> JSONValue {
        var result = self
        for path in paths { result = result.removing(path: path.split(separator: ".").map(String.init)[...]) ?? .object([]) }
        return result
    }

    private func removing(path: ArraySlice<String>) -> JSONValue? {
        guard case .object(var members) = self, let key = path.first else { return self }
        guard let index = members.firstIndex(where: { $0.key == key }) else { return self }
        if path.count == 1 {
            members.remove(at: index)
        } else if let inner = members[index].value.removing(path: path.dropFirst()) {
            members[index].value = inner
        } else {
            members.remove(at: index)
        }
        return members.isEmpty ? nil : .object(members)
    }

    /// The object's members whose value differs from `other`'s member of the same name.
    func membersDiffering(from other: JSONValue) -> JSONValue {
        guard case .object(let members) = self else { return self }
        return .object(members.filter { other[$0.key] != $0.value })
    }

    static func int(_ value: Int) -> JSONValue { .number(String(value)) }

    /// The string member `key` as a value when it is a non-empty string; nil (not JSON null) otherwise.
    func text(_ key: String) -> JSONValue? {
        guard let text = at(key)?.stringValue, !text.isEmpty else { return Optional<JSONValue>.none }
        return .string(text)
    }
}
