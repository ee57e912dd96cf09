import NIOConcurrencyHelpers
import Pipeline
import CoreMetrics

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
    /// `--rate-limit auto`: the rate the answers allow (nil: a fixed limit).
    private let adaptive: NIOLockedValueBox<AdaptiveRate>?

    /// A limiter of `requestsPerSecond` (0 turns it off) with bursts of `burst` (default: one second's worth).
    public init(requestsPerSecond: Double, burst: Int? = nil) {
        precondition(requestsPerSecond >= 0, "a rate is 0 (off) or positive")
        var state = State(rate: nil, burst: 1, emissionInterval: .zero, nextArrival: .now)
        state.set(rate: requestsPerSecond, burst: burst)
        self.state = NIOLockedValueBox(state)
        self.adaptive = nil
    }

    /// An adaptive limiter (`--rate-limit auto:MAX`): starts at ``AdaptiveRate/initial`` and follows the answers
    /// (see ``observe(status:retryAfter:)``), never above `maximum`; bursts of one request.
    public init(adaptiveMaximum maximum: Double) {
        let machine = AdaptiveRate(maximum: maximum, now: .now)
        var state = State(rate: nil, burst: 1, emissionInterval: .zero, nextArrival: .now)
        state.set(rate: machine.rate, burst: 1)
        self.state = NIOLockedValueBox(state)
        self.adaptive = NIOLockedValueBox(machine)
        APIMetrics.currentRate.record(machine.rate)
    }

    /// Whether the rate follows the console's answers.
    public var isAdaptive: Bool { adaptive != nil }

    /// An answer's status, for the adaptive limiter (see ``AdaptiveRate`` for the rule): a 2xx lets the rate grow, a
    /// 429 beyond the console's noise cuts it (and its `Retry-After` pauses every request), a 5xx only when most
    /// answers are; nothing for a fixed limit.
    @discardableResult
    public func observe(status: Int, retryAfter: Duration?) -> Double? {
        guard let adaptive else { return nil }
        let now = ContinuousClock.now
        if (200..<300).contains(status) {
            guard let rate = adaptive.withLockedValue({ $0.succeeded(now: now) }) else { return nil }
            state.withLockedValue { $0.set(rate: rate, burst: 1) }
            APIMetrics.currentRate.record(rate)
            return rate
        } else if (500..<600).contains(status) {
            guard let rate = adaptive.withLockedValue({ $0.serverError(now: now) }) else { return nil }
            state.withLockedValue { $0.set(rate: rate, burst: 1) }
            APIMetrics.currentRate.record(rate)
            return rate
        } else if status == 429 {
            let (rate, pause) = adaptive.withLockedValue { $0.throttled(now: now, retryAfter: retryAfter) }
            state.withLockedValue { state in
                state.set(rate: rate, burst: 1)
                if let pause { state.nextArrival = max(state.nextArrival, pause) }
            }
            APIMetrics.currentRate.record(rate)
            return rate
        }
        return nil
    }

    /// A limiter that never waits.
    public static let unlimited = RequestRateLimiter(requestsPerSecond: 0)

    /// Requests per second; `nil` when the limiter is off.
    public var requestsPerSecond: Double? { state.withLockedValue { $0.rate } }

    /// Requests allowed back to back after a quiet period.
    public var burst: Int { state.withLockedValue { $0.burst } }

    /// Changes the rate (and the burst, one second's worth unless given) from the next request on; a positive rate
    /// only (a limiter is turned off at its creation, never later). An adaptive limiter takes it as its ceiling: it
    /// still follows the answers, never above it (a group process's share of `auto:MAX`).
    public func setRate(_ requestsPerSecond: Double, burst: Int? = nil) {
        guard requestsPerSecond > 0 else { return }
        if let adaptive {
            let rate = adaptive.withLockedValue { $0.setMaximum(requestsPerSecond) }
            state.withLockedValue { $0.set(rate: rate, burst: 1) }
            APIMetrics.currentRate.record(rate)
            return
        }
        state.withLockedValue { $0.set(rate: requestsPerSecond, burst: burst) }
    }

    /// The adaptive limiter's ceiling now; nil for a fixed limit.
    public var adaptiveMaximum: Double? { adaptive?.withLockedValue { $0.maximum } }

    /// Waits until a request may be sent; returns how long it waited. Cancellation ends the wait early; a stop
    /// requested on `stop` ends it too, and then no request may be sent: it throws ``Stopped``.
    @discardableResult
    public func acquire(stop: StopSignal? = nil) async throws(Stopped) -> Duration {
        if stop?.isStopRequested == true { throw Stopped() }
        if adaptive != nil { return try await acquireAtCurrentRate(stop: stop) }
        let now = ContinuousClock.now
        let allowedAt: ContinuousClock.Instant? = state.withLockedValue { state in
            guard state.rate != nil else { return nil }
            let arrival = max(state.nextArrival, now)
            state.nextArrival = arrival + state.emissionInterval
            return arrival - state.emissionInterval * (state.burst - 1)
        }
        guard let allowedAt, allowedAt > now else { return .zero }
        try await Self.sleep(until: allowedAt, stop: stop)
        return allowedAt - now
    }

    /// The adaptive limiter's wait: no slot is reserved ahead — a waiter takes the next slot only when it is due, at
    /// the rate of that moment — so a cut applies at once instead of after every reservation already handed out.
    private func acquireAtCurrentRate(stop: StopSignal?) async throws(Stopped) -> Duration {
        let began = ContinuousClock.now
        while true {
            let now = ContinuousClock.now
            let due: ContinuousClock.Instant? = state.withLockedValue { state in
                guard state.nextArrival > now else {
                    state.nextArrival = now + state.emissionInterval
                    return nil
                }
                return state.nextArrival
            }
            guard let due else { return now - began }
            try await Self.sleep(until: due, stop: stop)
            if Task.isCancelled { return ContinuousClock.now - began }
        }
    }

    /// Sleeps until `deadline`; a stop ends the sleep with ``Stopped``, a cancellation ends it quietly.
    private static func sleep(until deadline: ContinuousClock.Instant, stop: StopSignal?) async throws(Stopped) {
        guard let stop else {
            try? await Task.sleep(until: deadline, clock: .continuous)
            return
        }
        if await !stop.sleep(until: deadline), stop.isStopRequested { throw Stopped() }
    }

    /// A wait for a token ended by a stop: the request must not be sent.
    public struct Stopped: Error, Sendable {}
}
