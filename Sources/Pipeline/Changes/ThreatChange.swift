import RawJSON

/// What changed in a threat version since the version of the same threat delivered before it — `meta.change` in
/// every record of `run` with state.
public struct ThreatChange: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// The first version of a threat created after the state began.
        case new
        /// A tracked field differs from the version delivered before.
        case changed
        /// Only untracked fields differ (`--emit changes` does not send it).
        case unchanged
        /// No earlier version is known: a threat older than the state (the first run), or forgotten by retention.
        case unknown
    }

    /// One tracked field that differs: its values as the console sent them (compact JSON; nil: absent), or, for a
    /// value over ``TrackedValueDigest/cap``, its digest (then the field is written `truncated`, both sides by size
    /// and SHA-256).
    public struct Field: Sendable, Equatable {
        public var path: String
        public var from: [UInt8]?
        public var to: [UInt8]?

        public init(path: String, from: [UInt8]?, to: [UInt8]?) {
            self.path = path
            self.from = from
            self.to = to
        }

        /// Whether a side is over the cap: the field is then said by sizes and digests.
        public var isTruncated: Bool {
            from.map(TrackedValueDigest.isDigest) ?? false || to.map(TrackedValueDigest.isDigest) ?? false
        }
    }

    public var kind: Kind
    /// `threatInfo.updatedAt` of the version compared with; nil for new and unknown.
    public var previousUpdatedAt: String?
    public var fields: [Field]
    /// This version is the transition to resolved (`threatInfo.incidentStatus`): an OCSF Close, once.
    public var closes: Bool

    public init(kind: Kind, previousUpdatedAt: String? = nil, fields: [Field] = [], closes: Bool = false) {
        self.kind = kind
        self.previousUpdatedAt = previousUpdatedAt
        self.fields = fields
        self.closes = closes
    }

    /// Whether `--emit changes` sends the version: new threats and versions where a tracked field changed — and
    /// unknown ones, whose change cannot be ruled out.
    public var isWorthSending: Bool { kind != .unchanged }

    /// `{"kind":…,"previousUpdatedAt":…,"fields":[{"path":…,"from":…,"to":…}]}`, the values spliced as served; a
    /// field with a side over the cap is `{"path":…,"truncated":true,"fromSize":…,"fromSha256":…,"toSize":…,
    /// "toSha256":…}` (an absent side: both null).
    public func appendJSON(to out: inout [UInt8]) {
        out.append(contentsOf: Array("{\"kind\":\"".utf8))
        out.append(contentsOf: Array(kind.rawValue.utf8))
        out.append(contentsOf: Array("\",\"previousUpdatedAt\":".utf8))
        if let previousUpdatedAt { JSONSplicer.appendString(previousUpdatedAt, to: &out) } else { out.append(contentsOf: Array("null".utf8)) }
        out.append(contentsOf: Array(",\"fields\":[".utf8))
        for (index, field) in fields.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: Array("{\"path\":".utf8))
            JSONSplicer.appendString(field.path, to: &out)
            if field.isTruncated {
                out.append(contentsOf: Array(",\"truncated\":true".utf8))
                for (side, value) in [("from", field.from), ("to", field.to)] {
                    let digest = value.map(TrackedValueDigest.sizeAndSHA256)
                    out.append(contentsOf: Array(",\"\(side)Size\":\(digest.map { String($0.size) } ?? "null")".utf8))
                    out.append(contentsOf: Array(",\"\(side)Sha256\":\(digest.map { "\"\($0.sha256)\"" } ?? "null")".utf8))
                }
                out.append(UInt8(ascii: "}"))
                continue
            }
            out.append(contentsOf: Array(",\"from\":".utf8))
            out.append(contentsOf: field.from ?? Array("null".utf8))
            out.append(contentsOf: Array(",\"to\":".utf8))
            out.append(contentsOf: field.to ?? Array("null".utf8))
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: Array("]}".utf8))
    }

    /// The change as a JSON value (the mapped formats).
    public var jsonValue: JSONValue {
        var bytes: [UInt8] = []
        appendJSON(to: &bytes)
        return (try? JSONValue.parse(bytes)) ?? .null
    }
}
