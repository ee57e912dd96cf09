import NIOConcurrencyHelpers

/// A token bucket shared by every request to one console: at most `requestsPerSecond` on average, with bursts of up
/// to `burst` requests. Waiting for a token is not an error; the time waited is counted in ``RequestStatistics``.
///
/// Implemented as a generic cell rate algorithm: each request reserves the next emission instant, so waiters are
/// served in arrival order and the lock is held only for a few arithmetic operations. The rate can change while
/// requests wait (a process in a group gets its share of a console's budget as shards come and go).
public final class RequestRateLimiter: Sendable {
    private struct State {
        var rate: Double?
        var burst: Int
        var emissionInterval: Duration
        /// The theoretical arrival time of the next request if requests came evenly.
        var nextArrival: ContinuousClock.Instant

        mutating func set(rate requestsPerSecond: Double, burst: Int?) {
            rate = requestsPerSecond > 0 ? requestsPerSecond : nil
            self.burst = max(1, burst ?? Int(requestsPerSecond.rounded(.down)))
            emissionInterval = requestsPerSecond > 0 ? .seconds(1 / requestsPerSecond) : .zero
        }
    }

    private let state: NIOLockedValueBox<State>

    /// A limiter of `requestsPerSecond` (0 turns it off) with bursts of `burst` (default: one second's worth).
    public init(requestsPerSecond: Double, burst: Int? = nil) {
        precondition(requestsPerSecond >= 0, "a rate is 0 (off) or positive")
        var state = State(rate: nil, burst: 1, emissionInterval: .zero, nextArrival: .now)
        state.set(rate: requestsPerSecond, burst: burst)
        self.state = NIOLockedValueBox(state)
    }

    /// A limiter that never waits.
    public static let unlimited = RequestRateLimiter(requestsPerSecond: 0)

    /// Requests per second; `nil` when the limiter is off.
    public var requestsPerSecond: Double? { state.withLockedValue { $0.rate } }

    /// Requests allowed back to back after a quiet period.
    public var burst: Int { state.withLockedValue { $0.burst } }

    /// Changes the rate (and the burst, one second's worth unless given) from the next request on; a positive rate
    /// only (a limiter is turned off at its creation, never later).
    public func setRate(_ requestsPerSecond: Double, burst: Int? = nil) {
        guard requestsPerSecond > 0 else { return }
        state.withLockedValue { $0.set(rate: requestsPerSecond, burst: burst) }
    }

    /// Waits until a request may be sent; returns how long it waited. Cancellation ends the wait early.
    @discardableResult
    public func acquire() async -> Duration {
        let now = ContinuousClock.now
        let allowedAt: ContinuousClock.Instant? = state.withLockedValue { state in
            guard state.rate != nil else { return nil }
            let arrival = max(state.nextArrival, now)
            state.nextArrival = arrival + state.emissionInterval
            return arrival - state.emissionInterval * (state.burst - 1)
        }
        guard let allowedAt, allowedAt > now else { return .zero }
        try? await Task.sleep(until: allowedAt, clock: .continuous)
        return allowedAt - now
    }
}
