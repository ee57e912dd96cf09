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
        #expect(document["@timestamp"] == "2021-12-14T20:23:47.249133Z")
        #expect(document["ecs"]?["version"] == "8.11.0")
        #expect(document["event"]?["kind"] == "alert" && document["event"]?["category"] == ["malware"])
        #expect(document["event"]?["id"] == .string(CapturedThreat.id))
        #expect(document["event"]?["severity"] == 73 && document["event"]?["action"] == "mitigated")
        #expect(document["event"]?["created"] == "2023-11-14T22:13:20.250000Z")
        #expect(document["file"]?["name"] == "eicar.com" && document["file"]?["size"] == 68)
        #expect(document["file"]?["hash"] == ["sha1": "3395856ce81f2b7382dee72602f798b642f14140"])
        #expect(document["host"]?["name"] == "localhost.localdomain" && document["host"]?["os"]?["type"] == "linux")
        #expect(document["host"]?["ip"]?.arrayValue?.prefix(3) == ["10.32.0.165", "172.18.0.1", "172.17.0.1"], "comma-separated, split")
        #expect(document["host"]?["ip"]?.arrayValue?.contains("96.79.235.37") == true, "the external address too")
        #expect(document["process"]?["name"] == "scp")
        #expect(document["related"]?["hash"] == ["3395856ce81f2b7382dee72602f798b642f14140"])
        #expect(document["related"]?["user"] == ["swimlane-host"])
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
}
