import RawJSON

/// The fields whose change makes a threat version worth telling: the triage and response fields by default, or the
/// paths given with `--track` (dotted, into the threat as the list endpoint serves it).
public struct TrackedFields: Sendable, Equatable {
    /// The paths, in the order given; each at most once.
    public let paths: [String]

    /// The triage and response fields: the analyst's verdict, the incident status, the mitigation status and the
    /// mitigation actions run, the confidence and classification, pending and failed actions, and the agent's network
    /// state (isolation).
    public static let defaultPaths = [
        "threatInfo.analystVerdict", "threatInfo.incidentStatus", "threatInfo.mitigationStatus",
        "mitigationStatus", "threatInfo.confidenceLevel", "threatInfo.classification",
        "threatInfo.pendingActions", "threatInfo.failedActions", "agentRealtimeInfo.agentNetworkStatus",
    ]

    public static let defaults = TrackedFields(validated: defaultPaths)

    /// The incident status: read whatever is tracked, because the transition to resolved closes a finding.
    static let incidentStatusPath = "threatInfo.incidentStatus"
    /// The creation time: a threat created after the state began is new, not unknown.
    static let createdAtPath = "threatInfo.createdAt"

    /// Paths as given; throws for an empty path, an empty component or too many paths.
    public init(_ paths: [String]) throws(TrackedFieldsError) {
        guard !paths.isEmpty else { throw TrackedFieldsError(message: "--track needs at least one path") }
        guard paths.count <= Self.maximumCount else {
            throw TrackedFieldsError(message: "at most \(Self.maximumCount) tracked fields, not \(paths.count)")
        }
        var unique: [String] = []
        for path in paths {
            let components = path.split(separator: ".", omittingEmptySubsequences: false)
            guard !path.isEmpty, path.utf8.count <= 256, !components.contains(where: \.isEmpty) else {
                throw TrackedFieldsError(message: "'\(path)' is not a field path (dotted member names, e.g. threatInfo.incidentStatus)")
            }
            if !unique.contains(path) { unique.append(path) }
        }
        self.init(validated: unique)
    }

    private init(validated paths: [String]) {
        self.paths = paths
    }

    /// The most paths `--track` takes.
    public static let maximumCount = 64

    /// The values of the tracked paths in `threat` (compact JSON, exactly as served; a missing member is absent),
    /// with the incident status and creation time read for the change's own use.
    func values(in threat: [UInt8]) -> TrackedValues {
        var wanted = paths
        for extra in [Self.incidentStatusPath, Self.createdAtPath] where !wanted.contains(extra) { wanted.append(extra) }
        let found = JSONPathReader.values(at: wanted, in: threat)
        var tracked: [String: [UInt8]] = [:]
        for path in paths { tracked[path] = found[path] }
        let status = found[Self.incidentStatusPath].flatMap { try? JSONValue.parse($0) }?.stringValue
        let createdAt = found[Self.createdAtPath].flatMap { try? JSONValue.parse($0) }?.stringValue
        return TrackedValues(values: tracked, resolved: status?.lowercased() == "resolved", createdAt: createdAt)
    }
}

/// A `--track` path that cannot be used.
public struct TrackedFieldsError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// What a version holds of the tracked fields.
struct TrackedValues {
    var values: [String: [UInt8]]
    var resolved: Bool
    var createdAt: String?
}

/// Reads the values at dotted paths from JSON text in one walk, without decoding what it does not need.
enum JSONPathReader {
    /// Path → the compact bytes of its value, for each path present (a member named with a dot cannot be reached).
    static func values(at paths: [String], in json: [UInt8]) -> [String: [UInt8]] {
        let split = paths.map { path in (path, path.split(separator: ".").map(String.init)) }
        var found: [String: [UInt8]] = [:]
        json.withUnsafeBytes { buffer in
            var scanner = JSONScanner(buffer)
            try? walk(&scanner, depth: 0, wanted: split, found: &found)
        }
        return found
    }

    private static func walk(
        _ scanner: inout JSONScanner, depth: Int, wanted: [(path: String, components: [String])], found: inout [String: [UInt8]]
    ) throws {
        guard try scanner.peekKind() == .object else { return }
        try scanner.forEachMember { scanner, key in
            let name = key.decoded()
            let matching = wanted.filter { $0.components.count > depth && $0.components[depth] == name }
            guard !matching.isEmpty else { return }
            let complete = matching.filter { $0.components.count == depth + 1 }
            if !complete.isEmpty {
                let (span, isCompact) = try scanner.skipCompactValue()
                var bytes: [UInt8] = []
                JSONSplicer.appendCompact(scanner.bytes, span: span, isCompact: isCompact, to: &bytes)
                for entry in complete { found[entry.path] = bytes }
                return
            }
            try walk(&scanner, depth: depth + 1, wanted: matching, found: &found)
        }
    }
}
