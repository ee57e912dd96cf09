import RawJSON

/// What the state keeps of a threat: the tracked values of the version last delivered, and the change it was
/// delivered with — so that delivering the same version again (after a crash) says the same change. Small: the
/// tracked values, never the document.
public struct ThreatStateEntry: Sendable, Equatable {
    public var id: String
    public var updatedAt: String?
    /// The paths tracked when it was stored: a path tracked since is not compared (it was not known).
    public var paths: [String]
    /// The value of each of `paths`, in their order (compact JSON as served); nil: absent. Not a dictionary: an
    /// entry waits in memory until it is stored, and per-entry keys cost more than the values.
    public var slots: [[UInt8]?]
    public var resolved: Bool
    public var change: ThreatChange
    /// When the console last listed the threat (seconds since 1970): `--state-retention` forgets it after that long.
    public var lastSeen: Int64

    public init(
        id: String, updatedAt: String?, paths: [String], values: [String: [UInt8]], resolved: Bool, change: ThreatChange, lastSeen: Int64
    ) {
        self.id = id
        self.updatedAt = updatedAt
        self.paths = paths
        self.slots = paths.map { values[$0] }
        self.resolved = resolved
        self.change = change
        self.lastSeen = lastSeen
    }

    init(id: String, updatedAt: String?, paths: [String], slots: [[UInt8]?], resolved: Bool, change: ThreatChange, lastSeen: Int64) {
        self.id = id
        self.updatedAt = updatedAt
        self.paths = paths
        self.slots = slots
        self.resolved = resolved
        self.change = change
        self.lastSeen = lastSeen
    }

    /// The value of `path`; nil when absent or not tracked then.
    public func value(of path: String) -> [UInt8]? {
        paths.firstIndex(of: path).flatMap { slots[$0] }
    }

    /// Path → value, for each path present.
    public var values: [String: [UInt8]] {
        var values: [String: [UInt8]] = [:]
        for (path, slot) in zip(paths, slots) { values[path] = slot }
        return values
    }

    /// The entry as one compact JSON document (the SQLite row's value, the state topic's record value).
    public var encoded: [UInt8] {
        var out = Array("{\"v\":1,\"id\":".utf8)
        JSONSplicer.appendString(id, to: &out)
        out.append(contentsOf: Array(",\"updatedAt\":".utf8))
        if let updatedAt { JSONSplicer.appendString(updatedAt, to: &out) } else { out.append(contentsOf: Array("null".utf8)) }
        out.append(contentsOf: Array(",\"seen\":\(lastSeen),\"resolved\":\(resolved),\"closes\":\(change.closes),\"values\":{".utf8))
        for (index, path) in paths.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONSplicer.appendString(path, to: &out)
            out.append(UInt8(ascii: ":"))
            // Absent and present-but-null differ: absent is written as a member-less marker.
            if let value = slots[index], TrackedValueDigest.isDigest(value) {
                let (size, sha256) = TrackedValueDigest.sizeAndSHA256(value)
                out.append(contentsOf: Array("{\"size\":\(size),\"sha256\":\"\(sha256)\"}".utf8))
            } else if let value = slots[index] {
                out.append(contentsOf: Array("{\"value\":".utf8))
                out.append(contentsOf: value)
                out.append(UInt8(ascii: "}"))
            } else {
                out.append(contentsOf: Array("{}".utf8))
            }
        }
        out.append(contentsOf: Array("},\"change\":".utf8))
        change.appendJSON(to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The columns of an entry's document — id, `updatedAt`, when last seen — read without decoding the rest (a
    /// restore stores the document as it is); nil when it is not an entry document of this version.
    public static func header(of bytes: [UInt8]) -> (id: String, updatedAt: String?, lastSeen: Int64)? {
        var version: Int?, id: String?, updatedAt: String?, seen: Int?
        let complete: Bool = bytes.withUnsafeBytes { raw in
            var scanner = JSONScanner(raw)
            do {
                try scanner.forEachMember { scanner, key in
                    if key.matches("v") { version = try scanner.readIntegerOrNull() }
                    else if key.matches("id") { id = try scanner.readStringOrNull() }
                    else if key.matches("updatedAt") { updatedAt = try scanner.readStringOrNull() }
                    else if key.matches("seen") { seen = try scanner.readIntegerOrNull() }
                }
                try scanner.expectEnd()
                return true
            } catch {
                return false
            }
        }
        guard complete, version == 1, let id, let seen else { return nil }
        return (id, updatedAt, Int64(seen))
    }

    /// Reads an entry ``encoded`` wrote; throws ``ThreatStateError`` for anything else.
    public init(decoding bytes: some Collection<UInt8>) throws(ThreatStateError) {
        guard let document = try? JSONValue.parse(bytes), case .object = document,
            document["v"] == .number("1"), let id = document["id"]?.stringValue,
            case .object(let valueMembers)? = document["values"], let change = document["change"],
            let kind = change["kind"]?.stringValue.flatMap(ThreatChange.Kind.init(rawValue:)),
            case .number(let seen)? = document["seen"], let lastSeen = Int64(seen)
        else { throw ThreatStateError(message: "a threat state entry is not one threatpipe wrote") }
        var paths: [String] = []
        var values: [String: [UInt8]] = [:]
        for member in valueMembers {
            paths.append(member.key)
            if let value = member.value["value"] {
                values[member.key] = value.serialized
            } else if let digest = Self.digest(size: member.value["size"], sha256: member.value["sha256"]) {
                values[member.key] = digest
            }
        }
        var fields: [ThreatChange.Field] = []
        for field in change["fields"]?.arrayValue ?? [] {
            guard let path = field["path"]?.stringValue else { continue }
            // An absent value and a null one are both written null in a change: read back, the same bytes.
            if field["truncated"] == .bool(true) {
                let from = Self.digest(size: field["fromSize"], sha256: field["fromSha256"])
                let to = Self.digest(size: field["toSize"], sha256: field["toSha256"])
                fields.append(ThreatChange.Field(path: path, from: from, to: to))
                continue
            }
            let from = field["from"]?.serialized
            let to = field["to"]?.serialized
            fields.append(ThreatChange.Field(path: path, from: from, to: to))
        }
        self.init(
            id: id, updatedAt: document["updatedAt"]?.stringValue, paths: paths, values: values,
            resolved: document["resolved"] == .bool(true),
            change: ThreatChange(
                kind: kind, previousUpdatedAt: change["previousUpdatedAt"]?.stringValue, fields: fields,
                closes: document["closes"] == .bool(true)
            ),
            lastSeen: lastSeen
        )
    }
}

extension ThreatStateEntry {
    /// A digest read back from its `size` and `sha256` members; nil unless both are there.
    static func digest(size: JSONValue?, sha256: JSONValue?) -> [UInt8]? {
        guard case .number(let text)? = size, let size = Int(text), let sha256 = sha256?.stringValue else { return nil }
        return TrackedValueDigest.digest(size: size, sha256: sha256)
    }
}

/// The threat state store could not be read or written, or holds what threatpipe did not write.
public struct ThreatStateError: Error, Sendable, CustomStringConvertible, ClassifiedError {
    public var message: String
    public var kind: FailureKind

    public init(message: String, kind: FailureKind = .storage) {
        self.message = message
        self.kind = kind
    }

    public var description: String { message }
}
