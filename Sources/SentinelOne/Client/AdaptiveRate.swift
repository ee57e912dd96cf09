import Durations

/// `--rate-limit auto[:MAX]`: the request rate found by probing the console, as a value-type state machine (time is
/// passed in, so tests drive it without sleeping). Each answer is an event; the machine returns the new rate, and
/// after a throttle the instant before which nothing may be sent (`Retry-After`).
///
/// The rule: start at 10 requests/s (or MAX when lower). While the answers are 2xx, grow — 25 % a second until the
/// first throttle, then 10 % a second up to 95 % of the console's ceiling, and 0.5 % a second beyond it, probing
/// slowly whether the ceiling has risen. The ceiling is what the console showed it allows when it last throttled:
/// the 2xx answers of the second before (no more than the rate then). A 429 or 503 sets the rate to 85 % of that
/// ceiling — half of it at the first throttle, which ends the fast start — at most once in 300 ms (the answers to
/// requests already on their way do not cut again); a `Retry-After` also pauses every request until then. Never
/// above MAX, never below 0.5/s.
public struct AdaptiveRate: Sendable, Equatable {
    public static let initial = 10.0
    public static let minimum = 0.5
    public static let decrease = 0.85

    public private(set) var rate: Double
    public private(set) var maximum: Double
    /// The rate at the last throttle; nil before the first.
    public private(set) var ceiling: Double?
    private var lastGrowth: ContinuousClock.Instant
    private var lastDecrease: ContinuousClock.Instant?
    /// When the 2xx answers of the last second came.
    private var recentSuccesses: [ContinuousClock.Instant] = []
    /// When the machine started: a second of answers must have been seen before they say what the console allows.
    private let started: ContinuousClock.Instant

    public init(maximum: Double, now: ContinuousClock.Instant) {
        self.maximum = max(maximum, Self.minimum)
        self.rate = min(Self.initial, self.maximum)
        self.lastGrowth = now
        self.started = now
    }

    /// A new ceiling (a group process's share of the console's budget, as shards come and go): the rate never goes
    /// above it from now on, and is cut to it at once; returns the rate.
    public mutating func setMaximum(_ newMaximum: Double) -> Double {
        maximum = max(newMaximum, Self.minimum)
        rate = min(rate, maximum)
        return rate
    }

    /// A 2xx answer: the rate grows with the time since it last grew; returns the new rate when it changed.
    public mutating func succeeded(now: ContinuousClock.Instant) -> Double? {
        recentSuccesses.append(now)
        forget(before: now - .seconds(1))
        let elapsed = (now - lastGrowth).inSeconds
        guard elapsed >= 0.1 else { return nil }
        lastGrowth = now
        let perSecond: Double
        if let ceiling {
            perSecond = rate < 0.95 * ceiling ? 0.10 : 0.005
        } else {
            perSecond = 0.25
        }
        var grown = rate * (1 + perSecond * min(elapsed, 2))
        if let ceiling, rate < 0.95 * ceiling { grown = min(grown, 0.95 * ceiling) }
        grown = min(grown, maximum)
        guard grown != rate else { return nil }
        rate = grown
        return rate
    }

    /// A 429 or 503: the new rate, and the instant before which no request may be sent (from `Retry-After`).
    public mutating func throttled(now: ContinuousClock.Instant, retryAfter: Duration?) -> (rate: Double, pauseUntil: ContinuousClock.Instant?) {
        let pause = retryAfter.map { now + $0 }
        if let lastDecrease, now - lastDecrease < .milliseconds(300) { return (rate, pause) }
        forget(before: now - .seconds(1))
        // Within the first second the answers have not shown a full second yet: the rate itself is the estimate.
        let measured = now - started >= .seconds(1) ? Double(recentSuccesses.count) : rate
        let shown = max(Self.minimum, min(rate, measured))
        // The first throttle ends the fast start, which may have overshot by far: halve, as TCP leaves slow start.
        rate = max(Self.minimum, shown * (ceiling == nil ? 0.5 : Self.decrease))
        ceiling = shown
        lastDecrease = now
        lastGrowth = now
        return (rate, pause)
    }
}

extension AdaptiveRate {
    private mutating func forget(before instant: ContinuousClock.Instant) {
        if let keep = recentSuccesses.firstIndex(where: { $0 >= instant }) {
            recentSuccesses.removeFirst(keep)
        } else {
            recentSuccesses.removeAll(keepingCapacity: true)
        }
    }
}
