import NIOConcurrencyHelpers

/// Where sinks that outlive one pass send their acknowledgements: the tracker of the pass under way.
///
/// `run` opens its sinks once and runs a pass per poll, each with its own tracker (sequence numbers start at 0 on
/// every pass). Each pass ends with a flush of every sink, so that no acknowledgement of one pass is still on its
/// way when the router is pointed at the next pass's tracker. The router is never reset: between passes it still
/// points at the last pass's tracker, which nothing reads any more.
public final class AcknowledgementRouter: Sendable {
    private let tracker = NIOLockedValueBox<AcknowledgementTracker?>(nil)

    public init() {}

    /// The tracker acknowledgements go to now.
    public var current: AcknowledgementTracker? { tracker.withLockedValue { $0 } }

    /// Sends acknowledgements to `tracker` from now on (nil: nowhere).
    public func route(to tracker: AcknowledgementTracker?) {
        self.tracker.withLockedValue { $0 = tracker }
    }

    /// The acknowledger to hand to sink number `sink` when it is opened.
    public func acknowledger(forSink sink: Int) -> SinkAcknowledger {
        SinkAcknowledger(target: .router(self), sink: sink)
    }
}
