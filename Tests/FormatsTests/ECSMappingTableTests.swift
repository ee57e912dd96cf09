import Foundation
import Pipeline
import RawJSON
import Testing

@testable import Formats

/// The ECS table of docs/formats.md against the encoder: threats that carry every source field the mapping reads are encoded,
/// and the ECS fields the documents set (outside `sentinel_one.*`) must be exactly the table's rows not marked
/// "not set"; no row marked "not set" may appear.
@Suite struct ECSMappingTableTests {
    struct Row {
        let fields: [String]
        let isSet: Bool
    }

    /// The rows of docs/formats.md's "ECS fields, against Elastic's SentinelOne integration" table.
    static func rows() throws -> [Row] {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/formats.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        guard let section = text.range(of: "### ECS fields, against Elastic's SentinelOne integration") else { return [] }
        var rows: [Row] = []
        var inTable = false
        for line in text[section.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("| ECS field") { inTable = true; continue }
            guard inTable else { continue }
            guard line.hasPrefix("|") else { break }
            if line.hasPrefix("|---") { continue }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 4 else { continue }
            let fields = cells[1].split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
            rows.append(Row(fields: fields, isSet: !cells[2].hasPrefix("not set")))
        }
        return rows
    }

    /// Every leaf path of `value` (arrays are leaves), outside `sentinel_one`.
    static func paths(_ value: JSONValue, prefix: String = "") -> Set<String> {
        guard case .object(let members) = value else { return [prefix] }
        var paths: Set<String> = []
        for member in members where !(prefix.isEmpty && member.key == "sentinel_one") {
            paths.formUnion(Self.paths(member.value, prefix: prefix.isEmpty ? member.key : "\(prefix).\(member.key)"))
        }
        return paths
    }

    /// A threat with every field the mapping reads, and an event of its originating process with the command line.
    static func fullThreat(classification: String) -> EnrichedThreat {
        let threat: JSONValue = [
            "id": "1311010474425970168",
            "threatInfo": [
                "threatName": "invoice.pdf.exe", "confidenceLevel": "malicious", "classification": .string(classification),
                "engines": ["On-Write DFI", "SentinelOne Cloud"], "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:05:00.123456Z",
                "identifiedAt": "2025-12-31T23:59:58Z", "filePath": "\\\\Device\\\\HarddiskVolume3\\\\Users\\\\ana\\\\invoice.pdf.exe",
                "fileSize": 73_802, "fileExtension": "EXE", "md5": "0cc175b9c0f1b6a831c399e269772661",
                "sha1": "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8", "sha256": "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
                "fileVerificationType": "SignedVerified", "isValidCertificate": true, "publisherName": "Example Ltd",
                "originatorProcess": "invoice.pdf.exe", "processUser": "CORP\\\\ana", "initiatingUsername": "soc-admin",
                "maliciousProcessArguments": "/silent",
            ],
            "agentRealtimeInfo": [
                "agentId": "1286405255257023125", "agentComputerName": "ws-ana", "agentDomain": "CORP", "agentMachineType": "laptop",
                "agentOsName": "Windows 11 Pro", "agentOsType": "windows", "agentOsRevision": "22631", "agentVersion": "23.4.2.14",
                "accountId": "433241117337583618", "accountName": "Example", "groupId": "1286405255265411734", "groupName": "Laptops",
                "networkInterfaces": [["name": "Ethernet", "inet": ["10.0.4.17"], "inet6": ["fe80::1"], "physical": "a4:83:e7:12:34:56"]],
            ],
            "agentDetectionInfo": [
                "agentIpV4": "10.0.4.17", "agentIpV6": "2001:db8::17", "externalIp": "81.2.69.160",
                "agentLastLoggedInUserName": "ana", "agentLastLoggedInUserMail": "ana@example.com",
            ],
            "containerInfo": ["id": "3f2a9c", "name": "web-1", "image": "nginx:1.27"],
            "indicators": [
                ["category": "Evasion", "ids": [7], "tactics": [
                    ["name": "Defense Evasion", "source": "MITRE", "techniques": [["name": "T1055", "link": "https://attack.mitre.org/techniques/T1055/"]]],
                    ["name": "Evasion", "source": "SentinelOne", "techniques": [["name": "Process hollowing", "link": "https://example.com/hollowing"]]],
                ]],
            ],
        ]
        let event: JSONValue = ["processName": "invoice.pdf.exe", "processCmd": "invoice.pdf.exe /silent"]
        return EnrichedThreat(
            threat: ListedThreat(id: "1311010474425970168", updatedAt: "2026-01-01T00:05:00.123456Z", json: threat.serialized),
            analysis: .notFound(EnrichmentFailure(httpStatus: 404, message: "gone")),
            events: .fetched(ThreatEvents(joinedJSON: event.serialized, count: 1, totalItems: 1))
        )
    }

    @Test func theTableNamesExactlyTheFieldsTheDocumentsSet() throws {
        let rows = try Self.rows()
        try #require(rows.count > 30, "the ECS table of docs/formats.md was not found")
        let encoder = ECSAlertEncoder(consoleURL: "https://usea1.sentinelone.net", now: { CapturedThreat.exportedAt })
        var written: Set<String> = []
        for classification in ["Malware", "Exploit"] {
            written.formUnion(Self.paths(try JSONValue.parse(encoder.encode(Self.fullThreat(classification: classification)).bytes)))
        }
        written.formUnion(Self.paths(try JSONValue.parse(encoder.encode(try CapturedThreat.enriched()).bytes)))
        let documented = Set(rows.filter(\.isSet).flatMap(\.fields).filter { !$0.hasPrefix("sentinel_one") })
        let notSet = rows.filter { !$0.isSet }.flatMap(\.fields)
        #expect(written.subtracting(documented).sorted() == [], "set by the encoder, missing from the table")
        #expect(documented.subtracting(written).sorted() == [], "in the table, never set by the encoder")
        for field in notSet {
            let prefix = field.hasSuffix(".*") ? String(field.dropLast(1)) : field
            #expect(!written.contains { $0 == field || $0.hasPrefix(prefix) && field.hasSuffix(".*") }, "\(field) is documented as not set")
        }
    }
}
