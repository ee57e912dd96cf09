import RawJSON

/// ECS `threat.*` from every indicator's tactics and techniques (`indicators[].tactics[].techniques[]`).
///
/// The framework is the tactic's `source` as the console writes it, `MITRE ATT&CK` for `MITRE`; a string for one
/// framework, an array for several. Only MITRE techniques give `threat.technique.id` (the console's technique `name`
/// is the ATT&CK id, `T1055`); another source's technique names go to `threat.technique.name`, never to an id field.
/// Tactics carry no ATT&CK id in the console's data, so `threat.tactic.id` is not set (Elastic's integration fills it
/// with the indicators' own `ids`, which are not tactic ids).
enum ECSThreat {
    /// A non-empty string member as a value; nil (not JSON null) otherwise.
    private static func text(_ object: JSONValue, _ key: String) -> JSONValue? {
        guard let text = object.at(key)?.stringValue, !text.isEmpty else { return Optional<JSONValue>.none }
        return .string(text)
    }

    static func threat(_ source: SourceThreat) -> JSONValue? {
        var frameworks: [JSONValue?] = []
        var tacticNames: [JSONValue?] = []
        var techniqueIDs: [JSONValue?] = []
        var techniqueNames: [JSONValue?] = []
        var references: [JSONValue?] = []
        for indicator in source.value("indicators")?.arrayValue ?? [] {
            for tactic in indicator.at("tactics")?.arrayValue ?? [] {
                let sourceName = tactic.at("source")?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
                let isMITRE = sourceName?.uppercased() == "MITRE"
                let techniques = tactic.at("techniques")?.arrayValue ?? []
                let name = text(tactic, "name")
                guard name != nil || !techniques.isEmpty else { continue }
                frameworks.append(sourceName.map { .string(isMITRE ? "MITRE ATT&CK" : $0) })
                tacticNames.append(name)
                for technique in techniques {
                    let techniqueName = text(technique, "name")
                    if isMITRE { techniqueIDs.append(techniqueName) } else { techniqueNames.append(techniqueName) }
                    references.append(text(technique, "link"))
                }
            }
        }
        let framework = ECSAlertEncoder.distinct(frameworks).flatMap { all -> JSONValue? in
            guard case .array(let names) = all else { return nil }
            return names.count == 1 ? names[0] : all
        }
        return .compact([
            "framework": framework,
            "tactic": .compact(["name": ECSAlertEncoder.distinct(tacticNames)]),
            "technique": .compact([
                "id": ECSAlertEncoder.distinct(techniqueIDs),
                "name": ECSAlertEncoder.distinct(techniqueNames),
                "reference": ECSAlertEncoder.distinct(references),
            ]),
        ])
    }
}
