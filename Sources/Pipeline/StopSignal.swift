import Synchronization

/// Asks a running pipeline to stop fetching: the fetcher finishes after the threat it is sending, and the later
/// stages drain what was fetched, so everything fetched is still delivered and acknowledged.
public final class StopSignal: Sendable {
    private let requested = Atomic<Bool>(false)

    public init() {}

    public func requestStop() { requested.store(true, ordering: .releasing) }

    public var isStopRequested: Bool { requested.load(ordering: .acquiring) }
}
