import Synchronization

/// Asks a running pipeline to stop fetching: the fetcher finishes after the threat it is sending, and the later
/// stages drain what was fetched, so everything fetched is still delivered and acknowledged.
public final class StopSignal: Sendable {
    private let requested = Atomic<Bool>(false)

    public init() {}

    public func requestStop() { requested.store(true, ordering: .releasing) }

    public var isStopRequested: Bool { requested.load(ordering: .acquiring) }

    /// Returns once a stop is requested, `deadline` passes (nil: none) or the task is cancelled; it looks every
    /// 100 ms, so a stop is noticed within that.
    public func wait(until deadline: ContinuousClock.Instant? = nil) async {
        while !isStopRequested, !Task.isCancelled {
            let left = deadline.map { $0 - .now } ?? .milliseconds(100)
            guard left > .zero else { return }
            try? await Task.sleep(for: min(.milliseconds(100), left))
        }
    }
}
