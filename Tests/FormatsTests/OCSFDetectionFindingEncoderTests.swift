import Pipeline
import RawJSON
import Testing

@testable import Formats

@Suite struct OCSFDetectionFindingEncoderTests {
    let encoder = OCSFDetectionFindingEncoder(consoleURL: "https://usea1.sentinelone.net", now: { CapturedThreat.exportedAt })

    func encode(_ threat: EnrichedThreat) throws -> JSONValue {
        try JSONValue.parse(encoder.encode(threat).bytes)
    }

    /// The captured threat, mapped by hand: what an analyst reading the console would expect in each field.
    @Test func capturedThreatMapsAsDocumented() throws {
        let finding = try encode(CapturedThreat.enriched())
        #expect(finding["class_uid"] == 2004 && finding["category_uid"] == 2)
        // createdAt 20:23:47.249133 ≠ updatedAt 20:23:47.481644, still unresolved: an update.
        #expect(finding["activity_id"] == 2 && finding["type_uid"] == 200402)
        #expect(finding["time"] == .number("1639513427481"))
        #expect(finding["severity_id"] == 4 && finding["severity"] == "High", "malicious Malware")
        #expect(finding["confidence_id"] == 3)
        #expect(finding["status_id"] == 1 && finding["status"] == "New", "unresolved")
        #expect(finding["disposition_id"] == 3 && finding["disposition"] == "Quarantined", "mitigated by quarantine")
        #expect(finding["action_id"] == 2)
        let info = try #require(finding["finding_info"])
        #expect(info["uid"] == .string(CapturedThreat.id))
        #expect(info["title"] == "eicar.com")
        #expect(info["types"] == ["Malware"])
        #expect(info["created_time"] == .number("1639513427249"))
        #expect(info["analytic"] == ["uid": "pre_execution", "name": "On-Write Static AI", "type_id": 4, "type": "Learning (ML/DL)", "category": "static"])
        #expect(info["src_url"] == .string("https://usea1.sentinelone.net/incidents/threats/\(CapturedThreat.id)/overview"))
        let metadata = try #require(finding["metadata"])
        #expect(metadata["version"] == "1.5.0")
        #expect(metadata["product"]?["vendor_name"] == "SentinelOne")
        #expect(metadata["correlation_uid"] == "9e6d373b-b7b7-c6fc-e703-6acca4842e53")
        #expect(metadata["original_time"] == "2021-12-14T20:23:47.481644Z")
        let device = try #require(finding["device"])
        #expect(device["hostname"] == "localhost.localdomain" && device["uid"] == "1286438987267469377")
        #expect(device["ip"] == "10.32.0.165", "the first of the comma-separated addresses")
        #expect(device["type_id"] == 1 && device["os"]?["type_id"] == 200)
        #expect(device["org"]?["name"] == "swimlane")
        let evidences = try #require(finding["evidences"]?.arrayValue)
        #expect(evidences.count == 1 + 1 + 2, "file, process, two events")
        #expect(evidences[0]["file"]?["path"] == "/home/swimlane-host/eicar.com")
        #expect(evidences[0]["file"]?["name"] == "eicar.com" && evidences[0]["file"]?["size"] == 68)
        #expect(evidences[0]["file"]?["hashes"] == [["algorithm_id": 2, "algorithm": "SHA-1", "value": "3395856ce81f2b7382dee72602f798b642f14140"]])
        #expect(evidences[1]["process"]?["name"] == "scp" && evidences[1]["process"]?["user"]?["name"] == "swimlane-host")
        #expect(evidences[2]["process"]?["pid"] == 22566, "the event's pid string as OCSF's integer")
        #expect(evidences[2]["name"] == "Process Creation")
        #expect(evidences[2]["data"]?["processUniqueKey"] == "da7e026e-d34d-87c7-e3fa-4f67b761e4c9_22566", "the event kept whole")
    }

    /// Nothing is lost: what is not copied verbatim is under `unmapped`, at its original path.
    @Test func unmappedKeepsWhatTheMappingChanged() throws {
        let finding = try encode(CapturedThreat.enriched())
        let unmapped = try #require(finding["unmapped"]?["threat"])
        #expect(unmapped["threatInfo"]?["confidenceLevel"] == "malicious", "mapped to an id, so kept")
        #expect(unmapped["threatInfo"]?["createdAt"] == "2021-12-14T20:23:47.249133Z", "milliseconds in OCSF, so kept")
        #expect(unmapped["agentDetectionInfo"]?["agentIpV4"] == "10.32.0.165,172.18.0.1,172.17.0.1")
        #expect(unmapped["threatInfo"]?["sha1"] == nil, "copied verbatim, so not repeated")
        #expect(unmapped["id"] == nil)
        #expect(finding["unmapped"]?["analysis"] == nil, "the analysis says nothing the threat does not")
        #expect(finding["unmapped"]?["threatpipe"]?["analysis"]?["status"] == "fetched")
    }

    @Test(arguments: [
        ("malicious", "Ransomware", 5, "Critical"), ("malicious", "Trojan", 4, "High"), ("suspicious", nil, 3, "Medium"),
        ("n/a", nil, 1, "Informational"), ("someday-new", nil, 99, "someday-new"), (nil, nil, 0, "Unknown"),
    ] as [(String?, String?, Int, String)])
    func severityFromConfidenceAndClassification(_ level: String?, _ classification: String?, _ id: Int, _ caption: String) throws {
        var info: [JSONMember] = []
        if let level { info.append(JSONMember("confidenceLevel", .string(level))) }
        if let classification { info.append(JSONMember("classification", .string(classification))) }
        let finding = try encode(CapturedThreat.minimal(threatInfo: .object(info)))
        #expect(finding["severity_id"] == .int(id))
        #expect(finding["severity"] == .string(caption))
    }

    /// Unknown enumerated values map to 99 Other with the source text; missing ones to 0 Unknown; never a crash.
    @Test func unknownEnumeratedValuesMapToOtherOrUnknown() throws {
        let odd = try encode(CapturedThreat.minimal(
            threatInfo: ["incidentStatus": "escalated", "mitigationStatus": "quantum", "confidenceLevel": 7],
            extra: [JSONMember("agentRealtimeInfo", ["agentMachineType": "toaster", "agentOsType": "plan9"])]
        ))
        #expect(odd["status_id"] == 99 && odd["status"] == "escalated")
        #expect(odd["disposition_id"] == 99 && odd["disposition"] == "quantum")
        #expect(odd["confidence_id"] == 0, "a non-string confidence is unknown")
        #expect(odd["device"]?["type_id"] == 99 && odd["device"]?["type"] == "toaster")
        #expect(odd["device"]?["os"]?["type_id"] == 99)
        let bare = try encode(CapturedThreat.minimal())
        #expect(bare["status_id"] == 0 && bare["disposition_id"] == 0 && bare["activity_id"] == 1)
        #expect(bare["finding_info"]?["title"] == "SentinelOne threat 42")
        #expect(bare["finding_info"]?["uid"] == "42")
        let notJSON = EnrichedThreat(threat: ListedThreat(id: "7", updatedAt: nil, json: Array("{".utf8)), analysis: .fetched(Array("[".utf8)), events: .fetched(ThreatEvents()))
        #expect((try? encode(notJSON)) != nil, "a broken part cannot crash the encoder")
    }

    /// Killed, quarantined, then remediated, in console order (newest first): Corrected, from the newest action — the
    /// last element (the oldest) said Blocked. With `lastUpdate` the newest is found whatever the order.
    @Test func theNewestMitigationActionSetsTheDisposition() throws {
        let newestFirst: JSONValue = [
            ["action": "remediate", "status": "success", "lastUpdate": "2026-01-01T00:00:03Z"],
            ["action": "quarantine", "status": "success", "lastUpdate": "2026-01-01T00:00:02Z"],
            ["action": "kill", "status": "success", "lastUpdate": "2026-01-01T00:00:01Z"],
        ]
        #expect(OCSFEnumerations.newestAction(newestFirst.arrayValue) == "remediate")
        let shuffled: JSONValue = [
            ["action": "kill", "lastUpdate": "2026-01-01T00:00:01Z"], ["action": "rollback", "lastUpdate": "2026-01-01T00:00:09.5Z"],
            ["action": "quarantine", "lastUpdate": "2026-01-01T00:00:02Z"],
        ]
        #expect(OCSFEnumerations.newestAction(shuffled.arrayValue) == "rollback")
        let undated: JSONValue = [["action": "network_quarantine"], ["action": "kill"]]
        #expect(OCSFEnumerations.newestAction(undated.arrayValue) == "network_quarantine", "console order: newest first")
        #expect(OCSFEnumerations.disposition(mitigationStatus: "mitigated", newestAction: OCSFEnumerations.newestAction(newestFirst.arrayValue)).id == 11)
    }

    @Test func mitigationActionsMapToDispositions() {
        #expect(OCSFEnumerations.disposition(mitigationStatus: "mitigated", newestAction: "kill").id == 2)
        #expect(OCSFEnumerations.disposition(mitigationStatus: "mitigated", newestAction: "rollback").id == 9)
        #expect(OCSFEnumerations.disposition(mitigationStatus: "mitigated", newestAction: "something").id == 11)
        #expect(OCSFEnumerations.disposition(mitigationStatus: "not_mitigated", newestAction: nil).caption == "Detected")
        #expect(OCSFEnumerations.disposition(mitigationStatus: "marked_as_benign", newestAction: nil).id == 10)
        #expect(OCSFEnumerations.action(disposition: .init(id: 15, caption: "Detected")).id == 1)
    }

    @Test func failedEnrichmentIsRecordedNotLost() throws {
        let finding = try encode(CapturedThreat.enriched(analysis: false, events: false))
        let status = try #require(finding["unmapped"]?["threatpipe"])
        #expect(status["analysis"] == ["status": "failed", "httpStatus": 503, "error": "unavailable", "requestId": "rq-1"])
        #expect(status["events"]?["status"] == "not_found")
        #expect(finding["evidences"]?.arrayValue?.count == 2, "file and process only")
    }
}
