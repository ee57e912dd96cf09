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
        var wanted = paths
        for extra in [Self.incidentStatusPath, Self.createdAtPath] where !wanted.contains(extra) { wanted.append(extra) }
        reader = JSONPathReader(paths: wanted)
    }

    /// Reads the tracked paths and the two the change needs, in one walk.
    private let reader: JSONPathReader

    public static func == (lhs: TrackedFields, rhs: TrackedFields) -> Bool { lhs.paths == rhs.paths }

    /// The most paths `--track` takes.
    public static let maximumCount = 64

    /// The values of the tracked paths in `threat` (compact JSON, exactly as served; a missing member is absent),
    /// with the incident status and creation time read for the change's own use.
    func values(in threat: [UInt8]) -> TrackedValues {
        // The reader's paths: the tracked ones, in order, then the two the change needs where not tracked.
        let found = reader.values(in: threat)
        let status = found[reader.index(of: Self.incidentStatusPath)].flatMap(Self.plainString)
        let createdAt = found[reader.index(of: Self.createdAtPath)].flatMap(Self.plainString)
        // Bounded here, before they are compared or kept: a value over the cap is its size and digest.
        return TrackedValues(slots: found.prefix(paths.count).map(TrackedValueDigest.bounded), resolved: status?.lowercased() == "resolved", createdAt: createdAt)
    }
}

extension TrackedFields {
    /// The text of a JSON string without escapes (the statuses and timestamps read here have none); nil otherwise.
    static func plainString(_ bytes: [UInt8]) -> String? {
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "\""), bytes.last == UInt8(ascii: "\""), !bytes.contains(UInt8(ascii: "\\")) else {
            return (try? JSONValue.parse(bytes))?.stringValue
        }
        return String(decoding: bytes[1..<(bytes.count - 1)], as: UTF8.self)
    }
}

/// A `--track` path that cannot be used.
public struct TrackedFieldsError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// What a version holds of the tracked fields.
struct TrackedValues {
    /// The value of each tracked path, in the order of the paths; nil: absent.
    var slots: [[UInt8]?]
    var resolved: Bool
    var createdAt: String?
}

/// Reads the values at dotted paths from JSON text in one walk, without decoding what it does not need: member names
/// are compared as bytes (a name written with escapes is decoded first), nothing is allocated for members off the
/// paths.
struct JSONPathReader: Sendable {
    /// Each path as its components' bytes.
    private let paths: [(path: String, components: [[UInt8]])]

    init(paths: [String]) {
        self.paths = paths.map { path in (path, path.split(separator: ".").map { Array($0.utf8) }) }
    }

    /// The position of `path` among the reader's paths.
    func index(of path: String) -> Int { paths.firstIndex { $0.path == path }! }

    /// The compact bytes of each path's value, in the order of the paths; nil where absent (a member named with a dot
    /// cannot be reached).
    func values(in json: [UInt8]) -> [[UInt8]?] {
        var found = [[UInt8]?](repeating: nil, count: paths.count)
        json.withUnsafeBytes { buffer in
            var scanner = JSONScanner(buffer)
            try? walk(&scanner, depth: 0, wanted: Array(paths.indices), found: &found)
        }
        return found
    }

    private func walk(_ scanner: inout JSONScanner, depth: Int, wanted: [Int], found: inout [[UInt8]?]) throws {
        guard try scanner.peekKind() == .object else { return }
        try scanner.forEachMember { scanner, key in
            var matching: [Int] = []
            for index in wanted where paths[index].components.count > depth && Self.equal(key, paths[index].components[depth]) {
                matching.append(index)
            }
            guard !matching.isEmpty else { return }
            if matching.contains(where: { paths[$0].components.count == depth + 1 }) {
                let (span, isCompact) = try scanner.skipCompactValue()
                var bytes: [UInt8] = []
                JSONSplicer.appendCompact(scanner.bytes, span: span, isCompact: isCompact, to: &bytes)
                for index in matching where paths[index].components.count == depth + 1 { found[index] = bytes }
                return
            }
            try walk(&scanner, depth: depth + 1, wanted: matching, found: &found)
        }
    }

    private static func equal(_ key: JSONKey, _ name: [UInt8]) -> Bool {
        if key.hasEscapes { return Array(key.decoded().utf8) == name }
        guard key.rawBytes.count == name.count else { return false }
        for index in 0..<name.count where key.rawBytes[index] != name[index] { return false }
        return true
    }
}
