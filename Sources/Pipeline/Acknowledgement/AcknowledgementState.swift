/// The acknowledgement state machine: records come in by sequence number, each sink acknowledges them in any
/// order, and the low watermark is the sequence number below which every record is acknowledged by every sink.
///
/// Memory is proportional to the records in flight, not to the records seen.
public struct AcknowledgementState: Sendable {
    /// What an acknowledgement changed.
    public enum Action: Equatable, Sendable {
        /// Nothing visible changed (the record still waits for other sinks, or an earlier record is pending).
        case none
        /// Every record below `lowWatermark` is now done.
        case watermarkAdvanced(to: UInt64)
    }

    /// The number of sinks every record must reach (1…64).
    public let sinkCount: Int
    /// Sequence numbers below this have been registered.
    public private(set) var registeredCount: UInt64 = 0
    /// Every record with a smaller sequence number is acknowledged by every sink.
    public private(set) var lowWatermark: UInt64 = 0
    /// Acknowledgements received, per sink.
    public private(set) var acknowledgedCount: [UInt64]
    /// Of those, records the sink rejected for good and wrote to the dead-letter file, per sink.
    public private(set) var deadLetteredCount: [UInt64]
    /// Pending records: sequence number → bit set of the sinks that have not acknowledged it yet.
    private var pendingSinks: [UInt64: UInt64] = [:]

    public init(sinkCount: Int) {
        precondition((1...64).contains(sinkCount), "between 1 and 64 sinks")
        self.sinkCount = sinkCount
        self.acknowledgedCount = Array(repeating: 0, count: sinkCount)
        self.deadLetteredCount = Array(repeating: 0, count: sinkCount)
    }

    /// Records in flight: registered but not yet acknowledged by every sink.
    public var inFlightCount: Int { pendingSinks.count }

    /// Whether `sequence` is registered and waits for a sink still.
    public func isPending(_ sequence: UInt64) -> Bool { pendingSinks[sequence] != nil }

    /// True when every registered record is acknowledged by every sink.
    public var isComplete: Bool { lowWatermark == registeredCount }

    /// Registers the next record; returns its sequence number.
    public mutating func register() -> UInt64 {
        let sequence = registeredCount
        registeredCount += 1
        pendingSinks[sequence] = sinkCount == 64 ? UInt64.max : (UInt64(1) << UInt64(sinkCount)) - 1
        return sequence
    }

    /// Records that `sink` is done with `sequence`: holds it durably, or (`deadLettered`) wrote it durably to the
    /// dead-letter file. A repeated or unknown acknowledgement changes nothing.
    public mutating func acknowledge(_ sequence: UInt64, sink: Int, as outcome: Acknowledgement = .delivered) -> Action {
        precondition((0..<sinkCount).contains(sink), "unknown sink index \(sink)")
        guard let pending = pendingSinks[sequence] else { return .none }
        let bit = UInt64(1) << UInt64(sink)
        guard pending & bit != 0 else { return .none }
        acknowledgedCount[sink] += 1
        if outcome == .deadLettered { deadLetteredCount[sink] += 1 }
        let remaining = pending & ~bit
        if remaining != 0 {
            pendingSinks[sequence] = remaining
            return .none
        }
        pendingSinks[sequence] = nil
        guard sequence == lowWatermark else { return .none }
        while lowWatermark < registeredCount && pendingSinks[lowWatermark] == nil { lowWatermark += 1 }
        return .watermarkAdvanced(to: lowWatermark)
    }
}

/// What became of a record at one sink, as its acknowledgement says (the finalizer's status). Either way the record is
/// done there and may move the checkpoint; a sink that fails to take a record throws instead and never acknowledges
/// it, so the checkpoint stays before it.
public enum Acknowledgement: Sendable, Equatable {
    /// Durable at the sink's destination.
    case delivered
    /// Rejected for good by the destination (too large, unknown topic) and durable in the dead-letter file.
    case deadLettered
}
