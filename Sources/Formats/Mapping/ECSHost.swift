import RawJSON

/// The agent's host as ECS `host.*`.
enum ECSHost {
    private static let realtime = "agentRealtimeInfo."
    private static let detection = "agentDetectionInfo."

    static func host(_ source: SourceThreat) -> JSONValue? {
        func text(_ path: String) -> JSONValue? { source.string(path).map(JSONValue.string) }
        let interfaces = source.value(realtime + "networkInterfaces")?.arrayValue ?? []
        // A loopback interface reports the all-zero address, which names no host.
        let macs = interfaces.compactMap { $0.at("physical")?.stringValue }.map(ecsMAC)
            .filter { !$0.isEmpty && $0 != "00-00-00-00-00-00" }.map(JSONValue.string)
        return .compact([
            "id": text(realtime + "agentId"),
            "name": text(realtime + "agentComputerName"),
            "hostname": text(realtime + "agentComputerName"),
            "domain": text(realtime + "agentDomain"),
            "type": text(realtime + "agentMachineType"),
            "ip": ECSAlertEncoder.distinct(addresses(source)),
            "mac": ECSAlertEncoder.distinct(macs),
            "os": .compact([
                "name": text(realtime + "agentOsName"),
                "type": source.string(realtime + "agentOsType").flatMap(osType).map(JSONValue.string),
                "version": text(realtime + "agentOsRevision"),
                "full": osFull(name: source.string(realtime + "agentOsName"), revision: source.string(realtime + "agentOsRevision")).map(JSONValue.string),
            ]),
        ])
    }

    /// Every address the agent reported that names the host from elsewhere: detection-time IPv4 and IPv6, the external
    /// address, the interfaces' — without loopback (127.0.0.0/8, ::1) and link-local ones (169.254.0.0/16, fe80::/10),
    /// which every host has (a macOS agent reported fifteen `fe80::` addresses) and which say nothing of this one.
    static func addresses(_ source: SourceThreat) -> [JSONValue?] {
        var addresses = [detection + "agentIpV4", detection + "agentIpV6", detection + "externalIp"]
            .flatMap { source.addresses($0) }.map { Optional(JSONValue.string($0)) }
        for interface in source.value(realtime + "networkInterfaces")?.arrayValue ?? [] {
            addresses += (interface.at("inet")?.arrayValue ?? []) + (interface.at("inet6")?.arrayValue ?? [])
        }
        return addresses.filter { $0?.stringValue.map { isIPAddress($0) && !isLoopbackOrLinkLocal($0) } ?? false }
    }

    /// 127.0.0.0/8, ::1, 169.254.0.0/16 and fe80::/10.
    static func isLoopbackOrLinkLocal(_ address: String) -> Bool {
        let text = address.lowercased()
        if !text.contains(":") { return text.hasPrefix("127.") || text.hasPrefix("169.254.") }
        if text == "::1" || text == "0:0:0:0:0:0:0:1" { return true }
        return ["fe8", "fe9", "fea", "feb"].contains { text.hasPrefix($0) }
    }

    /// `host.os.full`, the name with its version: `agentOsName` and `agentOsRevision` joined with a space (the
    /// revision alone is a bare build number on Windows, `19045`), or the name alone when it already holds the revision.
    static func osFull(name: String?, revision: String?) -> String? {
        guard let name else { return revision }
        guard let revision, !name.contains(revision) else { return name }
        return "\(name) \(revision)"
    }

    /// ECS's `host.os.type` values: linux, macos, unix, windows, ios, android.
    static func osType(_ sentinelOneType: String) -> String? {
        switch sentinelOneType.lowercased() {
        case "windows", "windows_legacy": "windows"
        case "linux": "linux"
        case "macos": "macos"
        case "ios": "ios"
        case "android": "android"
        default: nil
        }
    }

    /// ECS writes MAC addresses as upper-case hex pairs joined by hyphens.
    static func ecsMAC(_ mac: String) -> String {
        mac.uppercased().replacingOccurrences(of: ":", with: "-")
    }

    /// A plain check for an IPv4 or IPv6 literal (ECS `ip` fields reject anything else).
    static func isIPAddress(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4 { return parts.allSatisfy { UInt8($0) != nil } }
        return text.contains(":") && text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
