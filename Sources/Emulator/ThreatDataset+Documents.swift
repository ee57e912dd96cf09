import RawJSON

/// The JSON documents of a threat, modelled on real captures of the three endpoints.
extension ThreatDataset {
    static let hostNames = ["FIN-LAPTOP-0142", "srv-db-07.corp.example", "localhost.localdomain", "MKT-MBP-23", "k8s-node-3"]
    static let userNames = ["jdoe", "CORP\\svc_backup", "swimlane-host", "mgarcia", "root"]
    static let threatNames = ["eicar.com", "invoice_2024.pdf.exe", "mimikatz.exe", "payload.ps1", "libcrypt0.so"]
    static let classifications = ["Malware", "Trojan", "Ransomware", "PUA", "Infostealer", "Exploit"]
    static let confidenceLevels = ["malicious", "suspicious"]
    static let incidentStatuses = ["unresolved", "in_progress", "resolved"]
    static let verdicts = ["undefined", "true_positive", "false_positive", "suspicious"]
    static let mitigationStatuses = ["mitigated", "not_mitigated", "marked_as_benign", "pending"]
    static let osTypes = [("linux", "Linux", "CentOS release 7.8.2003 (Core) 3.10.0-1127.el7.x86_64"),
                          ("windows", "Windows 10 Pro", "19045"), ("macos", "macOS", "14.4.1")]
    static let awkwardText = "in\"voice\\ line1\nline2\r\ttab \u{2028}LS \u{2029}PS 🦠 emoji \u{01}ctl ünïcödé </script>"

    func threatName(at index: Int) -> String {
        var random = random(index, stream: 10)
        let name = random.pick(Self.threatNames)
        return hasAwkwardStrings(at: index) ? Self.awkwardText + " " + name : name
    }

    /// An item of `GET /web/api/v2.1/threats`.
    public func listItem(at index: Int) -> JSONValue {
        var members = threatMembers(at: index)
        members.insert(JSONMember("id", .string(id(at: index))), at: 3)
        return .object(members)
    }

    /// The `data` object of `GET /web/api/v2.1/private/threats/{id}/analysis`: the threat with the fields a list
    /// item lacks, and no top-level id.
    public func analysis(at index: Int) -> JSONValue {
        var random = random(index, stream: 11)
        var members = threatMembers(at: index)
        let rules: JSONValue =
            random.next() % 3 == 0
            ? [["id": .string(random.digits(19)), "name": "Suspicious LSASS access", "severity": "High"]] : []
        members.insert(JSONMember("customDetectionRules", rules), at: 3)
        members.append(JSONMember("ecsInfo", ["ecsType": nil, "serviceArn": nil, "clusterName": nil]))
        return .object(members)
    }

    private func threatMembers(at index: Int) -> [JSONMember] {
        var random = random(index, stream: 12)
        let (osType, osName, osRevision) = random.pick(Self.osTypes)
        let agentID = random.digits(19)
        let agentUUID = "\(random.hex(8))-\(random.hex(4))-\(random.hex(4))-\(random.hex(4))-\(random.hex(12))"
        let computer = hasAwkwardStrings(at: index) ? "host \"quoted\"\n\u{2028}🖥️" : random.pick(Self.hostNames)
        let user = random.pick(Self.userNames)
        let site = siteID(at: index)
        let account = accountID(at: index)
        let groupID = "12864052552654117" + String(34 + siteIndex(at: index))
        let ip = "10.\(random.next() % 256).\(random.next() % 256).\(random.next() % 254 + 1)"
        let sha1 = random.hex(40)
        let storyline = "\(random.hex(8))-\(random.hex(4))-\(random.hex(4))-\(random.hex(4))-\(random.hex(12))"
        let created = createdAt(at: index)
        let mitigated = RFC3339Timestamp(microseconds: created.microseconds + 233_000)
        let name = threatName(at: index)
        let path = osType == "windows" ? "C:\\Users\\\(user)\\Downloads\\\(name)" : "/home/\(user)/\(name)"

        let detectionInfo: JSONValue = [
            "accountId": .string(account), "accountName": "acme-\(account.suffix(2))",
            "agentDetectionState": nil, "agentDomain": osType == "windows" ? "CORP" : "",
            "agentIpV4": .string(ip), "agentIpV6": "fe80::250:56ff:febd:78a0",
            "agentLastLoggedInUpn": nil, "agentLastLoggedInUserMail": nil,
            "agentLastLoggedInUserName": .string(user), "agentMitigationMode": "protect",
            "agentOsName": .string(osName), "agentOsRevision": .string(osRevision),
            "agentRegisteredAt": "2021-11-10T22:44:37.714973Z", "agentUuid": .string(agentUUID),
            "agentVersion": "23.4.2.14", "cloudProviders": [:], "externalIp": "96.79.235.37",
            "groupId": .string(groupID), "groupName": "Default Group", "siteId": .string(site),
            "siteName": "Site \(siteIndex(at: index))",
        ]
        let interfaces: JSONValue = .array((0..<2).map { n in
            [
                "id": .string(random.digits(19)), "inet": n == 0 ? [.string(ip)] : [],
                "inet6": ["fe80::42:7aff:fe65:8d5d"], "name": n == 0 ? "eth0" : "docker0",
                "physical": "02:42:7A:65:8D:5\(n)",
            ]
        })
        let realtimeInfo: JSONValue = [
            "accountId": .string(account), "accountName": "acme-\(account.suffix(2))", "activeThreats": .number(String(random.next() % 5)),
            "agentComputerName": .string(computer), "agentDecommissionedAt": nil, "agentDomain": "",
            "agentId": .string(agentID), "agentInfected": .bool(random.next() % 2 == 0), "agentIsActive": true,
            "agentIsDecommissioned": false, "agentMachineType": osType == "linux" ? "server" : "laptop",
            "agentMitigationMode": "protect", "agentNetworkStatus": "connected", "agentOsName": .string(osName),
            "agentOsRevision": .string(osRevision), "agentOsType": .string(osType), "agentUuid": .string(agentUUID),
            "agentVersion": "23.4.2.14", "groupId": .string(groupID), "groupName": "Default Group",
            "networkInterfaces": interfaces, "operationalState": "na", "rebootRequired": false,
            "scanAbortedAt": nil, "scanFinishedAt": "2025-09-07T02:40:59.261750Z",
            "scanStartedAt": "2025-11-14T20:11:25.369554Z", "scanStatus": "finished", "siteId": .string(site),
            "siteName": "Site \(siteIndex(at: index))", "storageName": nil, "storageType": nil, "userActionsNeeded": [],
        ]
        let containerInfo: JSONValue = ["id": nil, "image": nil, "isContainerQuarantine": nil, "labels": nil, "name": nil]
        let indicators: JSONValue = .array((0..<Int(random.next() % 3 + 1)).map { n in
            [
                "category": "Persistence", "categoryId": .number(String(n + 3)),
                "description": "Application registered itself to become persistent via scheduled task",
                "ids": [.number(String(random.next() % 400)), .number(String(random.next() % 400))],
                "tactics": [[
                    "name": "Persistence", "source": "MITRE",
                    "techniques": [["link": "https://attack.mitre.org/techniques/T1053/", "name": "T1053"]],
                ]],
            ]
        })
        let kubernetesInfo: JSONValue = [
            "cluster": nil, "controllerKind": nil, "controllerLabels": nil, "controllerName": nil,
            "isContainerQuarantine": nil, "namespace": nil, "namespaceLabels": nil, "node": nil, "pod": nil,
            "podLabels": nil,
        ]
        let mitigationStatus: JSONValue = [[
            "action": "quarantine",
            "actionsCounters": ["failed": 0, "notFound": 0, "pendingReboot": 0, "success": 1, "total": 1],
            "agentSupportsReport": true, "groupNotFound": false, "lastUpdate": .string(mitigated.description),
            "latestReport": .string("/threats/mitigation-report/\(random.digits(19))"),
            "mitigationEndedAt": .string(mitigated.description), "mitigationStartedAt": .string(mitigated.description),
            "status": "success",
        ]]
        var threatInfo: [JSONMember] = [
            JSONMember("analystVerdict", .string(random.pick(Self.verdicts))),
            JSONMember("analystVerdictDescription", "Undefined"),
            JSONMember("automaticallyResolved", false), JSONMember("browserType", nil),
            JSONMember("certificateId", nil), JSONMember("classification", .string(random.pick(Self.classifications))),
            JSONMember("classificationSource", "Static"), JSONMember("cloudFilesHashVerdict", "black"),
            JSONMember("collectionId", .string(random.digits(18))),
            JSONMember("confidenceLevel", .string(random.pick(Self.confidenceLevels))),
            JSONMember("createdAt", .string(created.description)),
            JSONMember("detectionEngines", [["key": "pre_execution", "title": "On-Write Static AI"]]),
            JSONMember("detectionType", "static"), JSONMember("engines", ["On-Write DFI"]),
            JSONMember("externalTicketExists", false), JSONMember("externalTicketId", nil),
            JSONMember("failedActions", false), JSONMember("fileExtension", "EXE"),
            JSONMember("fileExtensionType", "Executable"), JSONMember("filePath", .string(path)),
            JSONMember("fileSize", .number(String(random.next() % 5_000_000 + 68))),
            JSONMember("fileVerificationType", "NotSigned"),
            JSONMember("identifiedAt", .string(RFC3339Timestamp(microseconds: created.microseconds - 105_439).description)),
            JSONMember("incidentStatus", .string(random.pick(Self.incidentStatuses))),
            JSONMember("incidentStatusDescription", "Unresolved"), JSONMember("initiatedBy", "agent_policy"),
            JSONMember("initiatedByDescription", "Agent Policy"), JSONMember("initiatingUserId", nil),
            JSONMember("initiatingUsername", nil), JSONMember("isFileless", false),
            JSONMember("isValidCertificate", false),
            JSONMember("maliciousProcessArguments", hasAwkwardStrings(at: index) ? .string("-c \"echo \\\"x\\\"\"\n\u{2029}") : nil),
            JSONMember("md5", .string(random.hex(32))), JSONMember("mitigatedPreemptively", false),
            JSONMember("mitigationStatus", .string(random.pick(Self.mitigationStatuses))),
            JSONMember("mitigationStatusDescription", "Mitigated"),
            JSONMember("originatorProcess", .string(osType == "windows" ? "explorer.exe" : "scp")),
            JSONMember("pendingActions", false), JSONMember("processUser", .string(user)),
            JSONMember("publisherName", nil), JSONMember("reachedEventsLimit", false),
            JSONMember("rebootRequired", false), JSONMember("sha1", .string(sha1)),
            JSONMember("sha256", .string(random.hex(64))), JSONMember("storyline", .string(storyline)),
            JSONMember("threatId", .string(id(at: index))), JSONMember("threatName", .string(name)),
            JSONMember("updatedAt", .string(updatedAt(at: index).description)),
        ]
        if hasUnknownFields(at: index) {
            threatInfo.append(JSONMember("futureScoring", [
                "bigCounter": .number("123456789012345678901234567890"),
                "beyondDouble": .number("9007199254740993"),
                "ratio": .number("1.50"), "tiny": .number("6.02E-23"), "negativeZero": .number("-0"),
                "nested": [[nil, true, [:], []]],
            ]))
        }
        return [
            JSONMember("agentDetectionInfo", detectionInfo),
            JSONMember("agentRealtimeInfo", realtimeInfo),
            JSONMember("containerInfo", containerInfo),
            JSONMember("indicators", indicators),
            JSONMember("kubernetesInfo", kubernetesInfo),
            JSONMember("mitigationStatus", mitigationStatus),
            JSONMember("threatInfo", .object(threatInfo)),
            JSONMember("whiteningOptions", ["path", "hash"]),
        ]
    }

    static let eventTypes = [
        ("Process Creation", "process"), ("File Creation", "file"), ("File Modification", "file"),
        ("DNS Resolved", "dns"), ("IP Connect", "ip"), ("Registry Value Modified", "registry"),
    ]

    /// Explore event `number` (0-based) of a threat.
    public func event(threat index: Int, number: Int) -> JSONValue {
        var random = SplitMix64(seed: seed, stream: 13, index: UInt64(index) << 20 | UInt64(number))
        let (eventType, objectType) = random.pick(Self.eventTypes)
        let created = createdAt(at: index).microseconds - Int64(number) * 1_000_000
        // Some events carry second precision, as real ones do.
        let createdText = number % 5 == 1
            ? RFC3339Timestamp(microseconds: created - created % 1_000_000).formatted(fractionDigits: 0)
            : RFC3339Timestamp(microseconds: created).description
        let sha1 = random.hex(40)
        let processGroup = "\(random.hex(8))-\(random.hex(4))-\(random.hex(4))-\(random.hex(4))-\(random.hex(12))"
        let pid = String(random.next() % 60_000 + 100)
        let processName = hasAwkwardStrings(at: index) && number == 0 ? "pwsh \"-enc\"\n\u{2028}😈" : "scp"
        var members: [JSONMember] = [
            JSONMember("activeContentFileId", nil), JSONMember("activeContentHash", nil),
            JSONMember("activeContentPath", nil), JSONMember("agentDomain", ""),
            JSONMember("agentGroupId", "1286405255265411734"), JSONMember("agentId", "1286438987267469377"),
            JSONMember("agentInfected", true), JSONMember("agentIp", "96.79.235.37"),
            JSONMember("agentIsActive", true), JSONMember("agentIsDecommissioned", false),
            JSONMember("agentMachineType", "server"), JSONMember("agentName", "localhost.localdomain"),
            JSONMember("agentNetworkStatus", "connected"), JSONMember("agentOs", "linux"),
            JSONMember("agentUuid", "33b3a892-d388-d3e6-6ead-a98acb5d054c"), JSONMember("agentVersion", "23.4.2.14"),
            JSONMember("connectionStatus", objectType == "ip" ? "SUCCESS" : nil),
            JSONMember("createdAt", .string(createdText)), JSONMember("direction", objectType == "ip" ? "OUTGOING" : nil),
            JSONMember("dnsRequest", objectType == "dns" ? "update.example-cdn.net" : nil),
            JSONMember("dnsResponse", objectType == "dns" ? "IP: 203.0.113.7;" : nil),
            JSONMember("dstIp", objectType == "ip" ? "203.0.113.7" : nil),
            JSONMember("dstPort", objectType == "ip" ? 443 : nil), JSONMember("eventType", .string(eventType)),
            JSONMember("fileFullName", objectType == "file" ? "/home/swimlane-host/eicar.com" : nil),
            JSONMember("fileId", objectType == "file" ? .string("\(random.next() % 200_000)_fanotify") : nil),
            JSONMember("fileMd5", nil), JSONMember("fileSha1", .string(sha1)), JSONMember("fileSha256", nil),
            JSONMember("fileSize", nil), JSONMember("fileType", objectType == "file" ? "" : nil),
            JSONMember("hasActiveContent", nil),
            JSONMember("id", .string(String(1_569_749_506_546_751_259 + UInt64(index) * 4096 + UInt64(number)))),
        ]
        for key in [
            "indicatorCategory", "indicatorDescription", "indicatorMetadata", "indicatorName", "loginsBaseType",
            "loginsUserName", "md5", "networkMethod", "networkSource", "networkUrl",
        ] {
            members.append(JSONMember(key, nil))
        }
        members += [
            JSONMember("objectType", .string(objectType)), JSONMember("oldFileMd5", nil), JSONMember("oldFileName", nil),
            JSONMember("oldFileSha1", nil), JSONMember("oldFileSha256", nil), JSONMember("parentPid", nil),
            JSONMember("parentProcessName", nil), JSONMember("parentProcessUniqueKey", nil),
            JSONMember("pid", .string(pid)), JSONMember("processCmd", nil),
            JSONMember("processDisplayName", .string(processName)), JSONMember("processGroupId", .string(processGroup)),
            JSONMember("processImagePath", nil), JSONMember("processImageSha1Hash", .string(sha1)),
            JSONMember("processIntegrityLevel", nil), JSONMember("processIsRedirectedCommandProcessor", nil),
            JSONMember("processIsWow64", nil), JSONMember("processName", .string(processName)),
            JSONMember("processRoot", number == 0 ? "True" : nil), JSONMember("processSessionId", nil),
            JSONMember("processStartTime", nil), JSONMember("processSubSystem", nil),
            JSONMember("processUniqueKey", .string("\(processGroup)_\(pid)")), JSONMember("processUserName", nil),
            JSONMember("protocol", nil), JSONMember("publisher", nil), JSONMember("registryClassification", nil),
            JSONMember("registryId", nil), JSONMember("registryPath", nil), JSONMember("relatedToThreat", false),
            JSONMember("rpid", nil), JSONMember("sha1", .string(sha1)), JSONMember("sha256", nil),
            JSONMember("signatureSignedInvalidReason", nil), JSONMember("signedStatus", nil),
            JSONMember("siteName", "Default site"), JSONMember("srcIp", nil), JSONMember("srcPort", nil),
            JSONMember("storyline", .string(processGroup)), JSONMember("taskName", nil), JSONMember("taskPath", nil),
            JSONMember("threatStatus", nil), JSONMember("tid", nil), JSONMember("trueContext", .string(processGroup)),
            JSONMember("user", nil), JSONMember("verifiedStatus", number % 2 == 0 ? nil : ""),
        ]
        return .object(members)
    }
}
