import Pipeline
import RawJSON
import Testing

@testable import Formats

/// One timestamp story across the formats: a version's instants are the same in raw, ECS and OCSF — the version's
/// `updatedAt` (ECS `@timestamp`, OCSF `time`), the agent's `identifiedAt` (ECS `event.start`, OCSF
/// `finding_info.first_seen_time`), the creation (OCSF `finding_info.created_time`, ECS in the kept threat) and the
/// export (raw `meta.exportedAt`, ECS `event.created`, OCSF `metadata.processed_time`).
@Suite struct TimestampStoryTests {
    let console = "https://usea1.sentinelone.net"

    func milliseconds(_ text: JSONValue?) -> JSONValue? {
        text?.stringValue.flatMap(RFC3339Timestamp.init).map { .number(String($0.microseconds / 1000)) }
    }

    @Test func aVersionHasTheSameInstantsInEveryFormat() throws {
        let enriched = try CapturedThreat.enriched()
        let now = { @Sendable in CapturedThreat.exportedAt }
        let raw = try JSONValue.parse(RawRecordEncoder(consoleURL: console, now: now).encode(enriched).bytes)
        let ecs = try JSONValue.parse(ECSAlertEncoder(consoleURL: console, now: now).encode(enriched).bytes)
        let ocsf = try JSONValue.parse(OCSFDetectionFindingEncoder(consoleURL: console, now: now).encode(enriched).bytes)
        let info = try #require(raw["threat"]?["threatInfo"])

        #expect(ecs["@timestamp"] == info["updatedAt"])
        #expect(ocsf["time"] == milliseconds(info["updatedAt"]))
        #expect(ocsf["finding_info"]?["modified_time"] == milliseconds(info["updatedAt"]))
        #expect(ocsf["metadata"]?["original_time"] == info["updatedAt"])

        #expect(ecs["event"]?["start"] == info["identifiedAt"])
        #expect(ocsf["finding_info"]?["first_seen_time"] == milliseconds(info["identifiedAt"]))

        #expect(ocsf["finding_info"]?["created_time"] == milliseconds(info["createdAt"]))
        #expect(ecs["sentinel_one"]?["threat"]?["threatInfo"]?["createdAt"] == info["createdAt"])

        #expect(ecs["event"]?["created"] == raw["meta"]?["exportedAt"])
        #expect(ocsf["metadata"]?["processed_time"] == milliseconds(raw["meta"]?["exportedAt"]))
    }

    /// Two versions of one threat stand at their own `updatedAt` in both mapped formats, not at the creation time
    /// they share.
    @Test func twoVersionsStandAtTheirOwnInstants() throws {
        let encoder = ECSAlertEncoder(consoleURL: console, now: { CapturedThreat.exportedAt })
        let ocsf = OCSFDetectionFindingEncoder(consoleURL: console, now: { CapturedThreat.exportedAt })
        for updatedAt in ["2026-01-01T00:00:01Z", "2026-01-01T00:00:01.500000Z"] {
            let threat = CapturedThreat.minimal(threatInfo: ["createdAt": "2026-01-01T00:00:00Z", "updatedAt": .string(updatedAt)])
            #expect(try JSONValue.parse(encoder.encode(threat).bytes)["@timestamp"] == .string(updatedAt))
            #expect(try JSONValue.parse(ocsf.encode(threat).bytes)["time"] == milliseconds(.string(updatedAt)))
        }
    }
}
