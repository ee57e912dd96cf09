import NIOConcurrencyHelpers

/// A token bucket shared by every request to one console: at most `requestsPerSecond` on average, with bursts of up
/// to `burst` requests. Waiting for a token is not an error; the time waited is counted in ``RequestStatistics``.
///
/// Implemented as a generic cell rate algorithm: each request reserves the next emission instant, so waiters are
/// served in arrival order and the lock is held only for a few arithmetic operations.
public final class RequestRateLimiter: Sendable {
    /// Requests per second; `nil` when the limiter is off.
    public let requestsPerSecond: Double?
    /// Requests allowed back to back after a quiet period.
    public let burst: Int
    private let emissionInterval: Duration
    /// The theoretical arrival time of the next request if requests came evenly.
    private let nextArrival: NIOLockedValueBox<ContinuousClock.Instant>

    /// A limiter of `requestsPerSecond` (0 turns it off) with bursts of `burst` (default: one second's worth).
    public init(requestsPerSecond: Double, burst: Int? = nil) {
        precondition(requestsPerSecond >= 0, "a rate is 0 (off) or positive")
        self.requestsPerSecond = requestsPerSecond > 0 ? requestsPerSecond : nil
        self.burst = max(1, burst ?? Int(requestsPerSecond.rounded(.down)))
        self.emissionInterval = requestsPerSecond > 0 ? .seconds(1 / requestsPerSecond) : .zero
        self.nextArrival = NIOLockedValueBox(.now)
    }

    /// A limiter that never waits.
    public static let unlimited = RequestRateLimiter(requestsPerSecond: 0)

    /// Waits until a request may be sent; returns how long it waited. Cancellation ends the wait early.
    @discardableResult
    public func acquire() async -> Duration {
        guard requestsPerSecond != nil else { return .zero }
        let now = ContinuousClock.now
        let allowedAt = nextArrival.withLockedValue { next in
            let arrival = max(next, now)
            next = arrival + emissionInterval
            return arrival - emissionInterval * (burst - 1)
        }
        guard allowedAt > now else { return .zero }
        try? await Task.sleep(until: allowedAt, clock: .continuous)
        return allowedAt - now
    }
}
