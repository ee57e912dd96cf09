import RawJSON

/// The agent's host as an OCSF `device` (host profile).
enum OCSFDevice {
    private static let realtime = "agentRealtimeInfo."
    private static let detection = "agentDetectionInfo."

    static func device(_ source: SourceThreat) -> JSONValue? {
        let type = OCSFEnumerations.deviceType(source.string(realtime + "agentMachineType"))
        let osType = OCSFEnumerations.operatingSystemType(source.string(realtime + "agentOsType"))
        let name = source.string(realtime + "agentComputerName")
        return .compact([
            "uid": string(source, realtime + "agentId"),
            "uid_alt": string(source, realtime + "agentUuid"),
            "name": name.map(JSONValue.string),
            "hostname": name.map(JSONValue.string),
            "domain": string(source, realtime + "agentDomain"),
            "ip": source.addresses(detection + "agentIpV4").first.map(JSONValue.string),
            "type_id": .int(type.id),
            "type": .string(type.caption),
            "os": .compact([
                "name": string(source, realtime + "agentOsName"),
                "type_id": .int(osType.id),
                "type": .string(osType.caption),
                "build": string(source, realtime + "agentOsRevision"),
            ]),
            "org": .compact([
                "uid": string(source, realtime + "accountId"),
                "name": string(source, realtime + "accountName"),
                "ou_uid": string(source, realtime + "siteId"),
                "ou_name": string(source, realtime + "siteName"),
            ]),
            "groups": .compactArray([
                .compact(["uid": string(source, realtime + "groupId"), "name": string(source, realtime + "groupName")]),
            ]),
            "network_interfaces": networkInterfaces(source),
            "agent_list": .compactArray([
                .compact([
                    "uid": string(source, realtime + "agentUuid"),
                    "name": "SentinelOne",
                    "vendor_name": "SentinelOne",
                    "version": string(source, realtime + "agentVersion"),
                    "type_id": 1,
                    "type": "Endpoint Detection and Response",
                ]),
            ]),
            "is_managed": true,
        ])
    }

    /// Paths `device` copies verbatim (left out of `unmapped`).
    static let mappedPaths = [
        realtime + "agentId", realtime + "agentUuid", realtime + "agentComputerName", realtime + "agentDomain",
        realtime + "agentOsName", realtime + "agentOsRevision", realtime + "accountId",
        realtime + "accountName", realtime + "siteId", realtime + "siteName", realtime + "groupId",
        realtime + "groupName", realtime + "agentVersion",
    ]

    private static func networkInterfaces(_ source: SourceThreat) -> JSONValue? {
        let interfaces = source.value(realtime + "networkInterfaces")?.arrayValue ?? []
        return .compactArray(interfaces.map { interface in
            .compact([
                "uid": interface.at("id"),
                "name": interface.at("name"),
                "mac": interface.at("physical"),
                "ip": interface.at("inet")?.arrayValue?.first,
                "type_id": 0,
                "type": "Unknown",
            ])
        })
    }

    private static func string(_ source: SourceThreat, _ path: String) -> JSONValue? {
        source.string(path).map(JSONValue.string)
    }
}
