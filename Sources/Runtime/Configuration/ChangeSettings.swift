import Pipeline

/// What `run` says of each version's change, and where it keeps the threats' state (beside the checkpoint).
public struct ChangeSettings: Sendable {
    /// The fields whose change counts (`--track`).
    public var tracked: TrackedFields = .defaults
    /// Every version, or only those that changed (`--emit`).
    public var emit: ChangeLedger.Emit = .all
    /// Threats not listed for this long are forgotten (`--state-retention`).
    public var retention: Duration = .seconds(180 * 86_400)
    /// The Kafka store's state topic (`--state-topic`).
    public var stateTopic = "threatpipe.threat-state"

    public init() {}
}
