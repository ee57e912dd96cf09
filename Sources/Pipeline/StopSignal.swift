import NIOConcurrencyHelpers

/// Asks a running pipeline to stop fetching: the fetcher finishes after the threat it is sending, and the later
/// stages drain what was fetched, so everything fetched is still delivered and acknowledged. Whatever waits on the
/// signal — a rate-limit token, a retry's backoff, the pause between polls — is woken by the request at once.
public final class StopSignal: Sendable {
    private struct State {
        var requested = false
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// Raises the signal and wakes every waiter; idempotent.
    public func requestStop() {
        let woken = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            guard !state.requested else { return [] }
            state.requested = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }

    public var isStopRequested: Bool { state.withLockedValue { $0.requested } }

    /// Returns once a stop is requested, `deadline` passes (nil: none) or the task is cancelled.
    public func wait(until deadline: ContinuousClock.Instant? = nil) async {
        if let deadline {
            _ = await sleep(until: deadline)
        } else {
            await waitForRequest()
        }
    }

    /// Sleeps until `deadline` unless a stop comes first (or the task is cancelled); returns true when the whole time
    /// passed with no stop requested.
    public func sleep(until deadline: ContinuousClock.Instant) async -> Bool {
        guard !isStopRequested else { return false }
        let slept = await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await Task.sleep(until: deadline, clock: .continuous)) != nil }
            group.addTask {
                await self.waitForRequest()
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        return slept && !isStopRequested
    }

    /// Returns once a stop is requested or the task is cancelled.
    private func waitForRequest() async {
        let id = state.withLockedValue { state -> Int? in
            guard !state.requested else { return nil }
            state.nextWaiter += 1
            return state.nextWaiter
        }
        guard let id else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLockedValue { state -> Bool in
                    // Stopped meanwhile, or cancelled before the continuation was stored: the cancellation handler
                    // found no waiter to resume, but the task's cancelled flag is already set.
                    if state.requested || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLockedValue { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
