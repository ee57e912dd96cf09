import RawJSON

/// The finding's evidences: the threat's file, its originating process, and every joined explore event.
enum OCSFEvidence {
    /// The detected file: path, name, size, hashes and signature state.
    static func file(_ source: SourceThreat) -> JSONValue? {
        let info = "threatInfo."
        guard let path = source.string(info + "filePath") ?? source.string(info + "threatName") else { return nil }
        let signature = OCSFEnumerations.signatureState(
            verification: source.string(info + "fileVerificationType"),
            isValidCertificate: source.value(info + "isValidCertificate") == .bool(true)
        )
        let file = JSONValue.compact([
            "name": .string(baseName(of: path)),
            "path": source.string(info + "filePath").map(JSONValue.string),
            "size": source.value(info + "fileSize").flatMap { if case .number = $0 { $0 } else { nil } },
            "type_id": 1,
            "type": "Regular File",
            "hashes": hashes(md5: source.string(info + "md5"), sha1: source.string(info + "sha1"), sha256: source.string(info + "sha256")),
            "signature": signature.map { state in
                ["algorithm_id": 0, "algorithm": "Unknown", "state_id": .int(state.id), "state": .string(state.caption)]
            },
        ])
        return .compact(["file": file])
    }

    /// The process that brought the threat, its whole command line when an explore event gives it (the threat's
    /// `maliciousProcessArguments` are arguments only: they stay under `unmapped.threat`), its user, and the user who
    /// initiated it.
    static func process(_ source: SourceThreat) -> JSONValue? {
        let info = "threatInfo."
        let process = JSONValue.compact([
            "name": source.string(info + "originatorProcess").map(JSONValue.string),
            "cmd_line": source.commandLine.map(JSONValue.string),
            "user": .compact(["name": source.string(info + "processUser").map(JSONValue.string)]),
        ])
        let actor = JSONValue.compact([
            "user": .compact(["name": source.string(info + "initiatingUsername").map(JSONValue.string)]),
        ])
        return .compact(["process": process, "actor": actor])
    }

    /// One explore event: its process, file and endpoints mapped, and the whole event kept as `data`.
    static func event(_ event: JSONValue) -> JSONValue? {
        func text(_ key: String) -> JSONValue? { event.text(key) }
        func integer(_ key: String) -> JSONValue? {
            switch event.at(key) {
            case .number(let literal)? where Int(literal) != nil: return .number(literal)
            case .string(let text)? where Int(text) != nil: return .number(text)
            default: return nil
            }
        }
        let processImage = event.at("processImagePath")?.stringValue
        let process = JSONValue.compact([
            "pid": integer("pid"),
            "name": text("processName"),
            "cmd_line": text("processCmd"),
            "uid": text("processUniqueKey"),
            "user": .compact(["name": text("processUserName")]),
            "file": processImage.flatMap { path in
                .compact([
                    "name": .string(baseName(of: path)), "path": .string(path), "type_id": 1, "type": "Regular File",
                    "hashes": hashes(md5: nil, sha1: event.at("processImageSha1Hash")?.stringValue, sha256: nil),
                ])
            },
        ])
        let filePath = event.at("fileFullName")?.stringValue
        let file = filePath.flatMap { path in
            JSONValue.compact([
                "name": .string(baseName(of: path)), "path": .string(path), "type_id": 1, "type": "Regular File",
                "hashes": hashes(
                    md5: event.at("fileMd5")?.stringValue, sha1: event.at("fileSha1")?.stringValue,
                    sha256: event.at("fileSha256")?.stringValue
                ),
            ])
        }
        return .compact([
            "name": text("eventType"),
            "process": process,
            "file": file,
            "src_endpoint": .compact(["ip": text("srcIp"), "port": integer("srcPort")]),
            "dst_endpoint": .compact(["ip": text("dstIp"), "port": integer("dstPort")]),
            "data": event,
        ])
    }

    static func hashes(md5: String?, sha1: String?, sha256: String?) -> JSONValue? {
        .compactArray([(1, "MD5", md5), (2, "SHA-1", sha1), (3, "SHA-256", sha256)].map { id, name, value in
            guard let value, !value.isEmpty else { return nil }
            return ["algorithm_id": .int(id), "algorithm": .string(name), "value": .string(value)]
        })
    }

    /// The last component of a path: POSIX when it starts with `/`, Windows (`\\`) when it has a backslash.
    static func baseName(of path: String) -> String {
        let separator: Character = path.hasPrefix("/") || !path.contains("\\") ? "/" : "\\"
        return path.split(separator: separator).last.map(String.init) ?? path
    }
}
