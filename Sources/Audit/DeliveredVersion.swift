import RawJSON

/// What `audit` needs of one delivered record, in any format threatpipe writes: the threat's id and `updatedAt`,
/// whether its enrichment was complete, and its site and creation time when the record carries them.
public struct DeliveredVersion: Sendable, Equatable {
    public var id: String
    public var updatedAt: RFC3339Timestamp
    /// Neither the analysis nor the events `failed` (a `not_found` part — a deleted threat — is not missing).
    public var isComplete: Bool
    public var siteID: String?
    public var createdAt: RFC3339Timestamp?
    /// The record's format (`raw`, `ocsf`, `ecs`), as its status object says.
    public var format: String?

    public init(
        id: String, updatedAt: RFC3339Timestamp, isComplete: Bool, siteID: String? = nil, createdAt: RFC3339Timestamp? = nil,
        format: String? = nil
    ) {
        self.format = format
        self.id = id
        self.updatedAt = updatedAt
        self.isComplete = isComplete
        self.siteID = siteID
        self.createdAt = createdAt
    }

    /// Reads a record (raw: `meta`; OCSF: `unmapped.threatpipe`; ECS: `sentinel_one.export` hold the same status
    /// object). Throws when the line is not JSON or not a threatpipe record.
    public init(record bytes: some Collection<UInt8>) throws {
        let record = try JSONValue.parse(bytes)
        let status = record["meta"] ?? record["unmapped"]?["threatpipe"] ?? record["sentinel_one"]?["export"]
        guard let status, let id = status["threatId"]?.stringValue,
            let updatedText = status["threatUpdatedAt"]?.stringValue, let updatedAt = RFC3339Timestamp(updatedText)
        else {
            throw AuditError(description: "not a threatpipe record (no meta.threatId and meta.threatUpdatedAt)")
        }
        let failed = ["analysis", "events"].contains { status[$0]?["status"]?.stringValue == "failed" }
        let threat = record["threat"] ?? record["sentinel_one"]?["threat"] ?? record["unmapped"]?["threat"]
        let site = threat?["agentRealtimeInfo"]?["siteId"]?.stringValue ?? record["device"]?["org"]?["ou_uid"]?.stringValue
        let created = threat?["threatInfo"]?["createdAt"]?.stringValue.flatMap { RFC3339Timestamp($0) }
        self.init(
            id: id, updatedAt: updatedAt, isComplete: !failed, siteID: site, createdAt: created, format: status["format"]?.stringValue
        )
    }
}
