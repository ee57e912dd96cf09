import RawJSON

/// ECS `threat.*` from every indicator's tactics and techniques (`indicators[].tactics[].techniques[]`).
///
/// The framework is the tactic's `source` as the console writes it, `MITRE ATT&CK` for `MITRE`; a string for one
/// framework, an array for several. Only MITRE techniques give `threat.technique.id` (the console's technique `name`
/// is the ATT&CK id, `T1055`); another source's technique names go to `threat.technique.name`, never to an id field.
/// Tactics carry no ATT&CK id in the console's data, so `threat.tactic.id` is not set (Elastic's integration fills it
/// with the indicators' own `ids`, which are not tactic ids).
enum ECSThreat {
    static func threat(_ source: SourceThreat) -> JSONValue? {
        var frameworks: [JSONValue?] = []
        var tacticNames: [JSONValue?] = []
        var techniqueIDs: [JSONValue?] = []
        var techniqueNames: [JSONValue?] = []
        var references: [JSONValue?] = []
        for (tactic, sourceName, techniques) in source.tactics {
            let isMITRE = sourceName.map(SourceThreat.isMITRE) ?? false
            let name = tactic.text("name")
            guard name != nil || !techniques.isEmpty else { continue }
            frameworks.append(sourceName.map { .string(isMITRE ? "MITRE ATT&CK" : $0) })
            tacticNames.append(name)
            for technique in techniques {
                let techniqueName = technique.text("name")
                if isMITRE { techniqueIDs.append(techniqueName) } else { techniqueNames.append(techniqueName) }
                references.append(technique.text("link"))
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
