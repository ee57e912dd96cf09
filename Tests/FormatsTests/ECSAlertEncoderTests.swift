import Pipeline
import RawJSON
import Testing

@testable import Formats

@Suite struct ECSAlertEncoderTests {
    let encoder = ECSAlertEncoder(consoleURL: "https://usea1.sentinelone.net", now: { CapturedThreat.exportedAt })

    /// The captured threat, mapped by hand after Elastic's SentinelOne integration.
    @Test func capturedThreatMapsAsDocumented() throws {
        let enriched = try CapturedThreat.enriched()
        let document = try JSONValue.parse(encoder.encode(enriched).bytes)
        #expect(document["@timestamp"] == "2021-12-14T20:23:47.481644Z", "the version's updatedAt")
        #expect(document["event"]?["start"] == "2021-12-14T20:23:47.143694Z", "identifiedAt")
        #expect(document["message"] == "Threat Detected: eicar.com (malicious)")
        #expect(document["ecs"]?["version"] == "8.11.0")
        #expect(document["event"]?["kind"] == "alert" && document["event"]?["category"] == ["malware"])
        #expect(document["event"]?["id"] == .string(CapturedThreat.id))
        #expect(document["event"]?["severity"] == 73 && document["event"]?["action"] == "On-Write DFI")
        #expect(document["event"]?["type"] == ["info"])
        #expect(document["observer"]?["version"] == "21.10.1.6")
        #expect(document["group"] == ["id": "1286405255265411734", "name": "Default Group"])
        #expect(document["host"]?["os"]?["full"] == "Linux CentOS release 7.8.2003 (Core) 3.10.0-1127.el7.x86_64")
        #expect(document["host"]?["os"]?["version"] == "CentOS release 7.8.2003 (Core) 3.10.0-1127.el7.x86_64")
        #expect(document["process"]?["command_line"] == nil, "the captured events give no processCmd")
        #expect(document["event"]?["created"] == "2023-11-14T22:13:20.250000Z")
        #expect(document["file"]?["name"] == "eicar.com" && document["file"]?["size"] == 68)
        #expect(document["file"]?["hash"] == ["sha1": "3395856ce81f2b7382dee72602f798b642f14140"])
        #expect(document["host"]?["name"] == "localhost.localdomain" && document["host"]?["os"]?["type"] == "linux")
        #expect(document["host"]?["ip"]?.arrayValue?.prefix(3) == ["10.32.0.165", "172.18.0.1", "172.17.0.1"], "comma-separated, split")
        #expect(document["host"]?["ip"]?.arrayValue?.contains("96.79.235.37") == true, "the external address too")
        #expect(document["process"]?["name"] == "scp")
        #expect(document["related"]?["hash"] == ["3395856ce81f2b7382dee72602f798b642f14140"])
        #expect(document["related"]?["user"] == ["swimlane-host"])
        #expect(document["user"] == ["name": "swimlane-host"], "no last logged-in user: the process user")
        #expect(document["sentinel_one"]?["threat"] == (try JSONValue.parse(enriched.threat.json)), "the original, whole")
        #expect(document["sentinel_one"]?["events"]?.arrayValue?.count == 2)
        #expect(document["sentinel_one"]?["export"]?["format"] == "ecs")
    }

    @Test func unknownValuesNeverCrashAndStayOutOfECSFields() throws {
        let document = try JSONValue.parse(encoder.encode(CapturedThreat.minimal(
            threatInfo: ["confidenceLevel": "maybe"],
            extra: [JSONMember("agentRealtimeInfo", ["agentOsType": "plan9"]), JSONMember("agentDetectionInfo", ["agentIpV4": "not-an-ip"])]
        )).bytes)
        #expect(document["event"]?["severity"] == 21)
        #expect(document["host"]?["os"]?["type"] == nil, "not an ECS os.type value")
        #expect(document["host"]?["ip"] == nil, "not an address")
        #expect(document["sentinel_one"]?["threat"]?["agentDetectionInfo"]?["agentIpV4"] == "not-an-ip")
    }

    /// `host.ip` and `related.ip` keep the addresses that name the host from elsewhere: no loopback, no link-local.
    @Test func loopbackAndLinkLocalAddressesAreLeftOut() {
        for address in ["127.0.0.1", "127.1.2.3", "::1", "169.254.10.1", "fe80::1c2a:3bff:fe4d:5e6f", "FE80::1", "febf::1"] {
            #expect(ECSHost.isLoopbackOrLinkLocal(address), "\(address)")
        }
        for address in ["10.32.0.165", "96.79.235.37", "2001:db8::1", "fec0::1", "172.16.0.1", "128.0.0.1"] {
            #expect(!ECSHost.isLoopbackOrLinkLocal(address), "\(address)")
        }
    }

    /// A threat of each classification the console documents and the emulator serves, plus one it may add and none.
    @Test(arguments: [
        ("Exploit", "threat", "indicator"), ("PUA", "threat", "indicator"), ("pua", "threat", "indicator"),
        ("Malware", "malware", "info"), ("Ransomware", "malware", "info"), ("Trojan", "malware", "info"),
        ("Downloader", "malware", "info"), ("Infostealer", "malware", "info"), ("Hacktool", "malware", "info"),
    ])
    func categoryAndTypeFollowTheClassification(classification: String, category: String, type: String) throws {
        let document = try JSONValue.parse(encoder.encode(CapturedThreat.minimal(threatInfo: ["classification": .string(classification)])).bytes)
        #expect(document["event"]?["category"] == [.string(category)])
        #expect(document["event"]?["type"] == [.string(type)])
        let none = try JSONValue.parse(encoder.encode(CapturedThreat.minimal()).bytes)
        #expect(none["event"]?["category"] == ["malware"] && none["event"]?["type"] == ["info"])
    }

    /// A macOS agent reports every interface: loopback, link-local and tunnels. `host.ip` keeps the detection-time
    /// addresses, the external one and the interfaces' routable ones, each once.
    @Test func aMacOSAgentWithManyInterfacesKeepsItsRoutableAddresses() throws {
        let interfaces: JSONValue = [
            ["name": "lo0", "inet": ["127.0.0.1"], "inet6": ["::1", "fe80::1"], "physical": "00:00:00:00:00:00"],
            ["name": "en0", "inet": ["192.168.1.23"], "inet6": ["fe80::14c2:9aff:fe3b:1a2c", "2a02:8109:b6c0:1d00:1c6e:b7b6:9f8a:1"], "physical": "a4:83:e7:12:34:56"],
            ["name": "awdl0", "inet": [], "inet6": ["fe80::c8a1:2bff:fe33:4455"], "physical": "ca:a1:2b:33:44:55"],
            ["name": "utun0", "inet": [], "inet6": ["fe80::ce81:b1c:bd2c:69e"]],
            ["name": "bridge100", "inet": ["169.254.7.1", "10.211.55.2"], "inet6": []],
        ]
        let document = try JSONValue.parse(encoder.encode(CapturedThreat.minimal(extra: [
            JSONMember("agentRealtimeInfo", [
                "agentOsType": "macos", "agentOsName": "macOS", "agentOsRevision": "14.4.1 (23E224)", "networkInterfaces": interfaces,
            ]),
            JSONMember("agentDetectionInfo", ["agentIpV4": "192.168.1.23", "externalIp": "81.2.69.160"]),
        ])).bytes)
        #expect(document["host"]?["ip"] == ["192.168.1.23", "81.2.69.160", "2a02:8109:b6c0:1d00:1c6e:b7b6:9f8a:1", "10.211.55.2"])
        #expect(document["related"]?["ip"] == document["host"]?["ip"])
        #expect(document["host"]?["mac"] == ["A4-83-E7-12-34-56", "CA-A1-2B-33-44-55"], "not the loopback's zeros")
        #expect(document["host"]?["os"]?["full"] == "macOS 14.4.1 (23E224)" && document["host"]?["os"]?["type"] == "macos")
    }

    /// Tactics of every source: MITRE ones as ATT&CK (technique ids, `MITRE ATT&CK`), another source's under its own
    /// name with technique names — never an id it did not give. No `threat.tactic.id`: the console has none.
    @Test func threatFieldsComeFromEveryIndicatorAndInventNoAttackIDs() throws {
        let indicators: JSONValue = [
            ["category": "Persistence", "ids": [41], "tactics": [
                ["name": "Persistence", "source": "MITRE", "techniques": [["name": "T1547.001", "link": "https://attack.mitre.org/techniques/T1547/001/"]]],
            ]],
            ["category": "Evasion", "ids": [7, 8], "tactics": [
                ["name": "Evasion", "source": "SentinelOne", "techniques": [["name": "Process hollowing", "link": ""]]],
                ["name": "Privilege Escalation", "source": "MITRE", "techniques": [["name": "T1055", "link": "https://attack.mitre.org/techniques/T1055/"]]],
            ]],
            ["category": "General", "ids": [3], "tactics": []],
        ]
        let document = try JSONValue.parse(encoder.encode(CapturedThreat.minimal(extra: [JSONMember("indicators", indicators)])).bytes)
        let threat = document["threat"]
        #expect(threat?["framework"] == ["MITRE ATT&CK", "SentinelOne"])
        #expect(threat?["tactic"] == ["name": ["Persistence", "Evasion", "Privilege Escalation"]])
        #expect(threat?["technique"]?["id"] == ["T1547.001", "T1055"])
        #expect(threat?["technique"]?["name"] == ["Process hollowing"])
        #expect(threat?["technique"]?["reference"] == ["https://attack.mitre.org/techniques/T1547/001/", "https://attack.mitre.org/techniques/T1055/"])
        let mitreOnly = try JSONValue.parse(encoder.encode(CapturedThreat.minimal(extra: [JSONMember("indicators", [indicators.arrayValue![0]])])).bytes)
        #expect(mitreOnly["threat"]?["framework"] == "MITRE ATT&CK", "one framework: a string")
        let none = try JSONValue.parse(encoder.encode(CapturedThreat.minimal(extra: [JSONMember("indicators", [indicators.arrayValue![2]])])).bytes)
        #expect(none["threat"] == nil)
    }

    /// The whole command line comes from the originating process's explore event; the threat's arguments are never
    /// passed off as one (they stay in `sentinel_one.threat`).
    @Test func theCommandLineIsWholeOrAbsent() throws {
        let threat: JSONValue = [
            "id": "42",
            "threatInfo": ["originatorProcess": "powershell.exe", "maliciousProcessArguments": "-enc SQBFAFgA"],
        ]
        let events: [JSONValue] = [
            ["processName": "explorer.exe", "processCmd": "C:\\Windows\\explorer.exe"],
            ["processName": "powershell.exe", "processCmd": "powershell.exe -nop -w hidden -enc SQBFAFgA"],
        ]
        let joined = events.map(\.serialized).joined(separator: [UInt8(ascii: ",")])
        let enriched = EnrichedThreat(
            threat: ListedThreat(id: "42", updatedAt: nil, json: threat.serialized),
            analysis: .notFound(EnrichmentFailure(httpStatus: 404, message: "gone")),
            events: .fetched(ThreatEvents(joinedJSON: Array(joined), count: 2, totalItems: 2))
        )
        let document = try JSONValue.parse(encoder.encode(enriched).bytes)
        #expect(document["process"]?["command_line"] == "powershell.exe -nop -w hidden -enc SQBFAFgA")
        let argumentsOnly = try JSONValue.parse(encoder.encode(CapturedThreat.minimal(threatInfo: threat["threatInfo"]!)).bytes)
        #expect(argumentsOnly["process"]?["command_line"] == nil)
        #expect(argumentsOnly["sentinel_one"]?["threat"]?["threatInfo"]?["maliciousProcessArguments"] == "-enc SQBFAFgA")
    }
}
