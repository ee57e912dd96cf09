import Durations

/// `--rate-limit auto[:MAX]`: the request rate found by probing the console, as a value-type state machine (time is
/// passed in, so tests drive it without sleeping). Each answer is an event; the machine returns the new rate, and
/// after a throttle that counts the instant before which nothing may be sent (`Retry-After`).
///
/// The rule tells the console's budget from noise:
/// - **Growth.** Start at 10 requests/s (or MAX when lower). While the answers are 2xx, grow — 25 % a second until
///   the first throttle, then 10 % a second up to 95 % of the console's ceiling, and 0.5 % a second beyond it,
///   probing slowly whether the ceiling has risen. Never above MAX, never below 0.5/s.
/// - **A 429 is the budget's signal.** It sets the rate to 85 % of the ceiling — what the console showed it allows:
///   the 2xx answers of the second before, no more than the rate then (half of it at the first throttle, which ends
///   the fast start) — at most once in 300 ms (the answers to requests already on their way do not cut again); its
///   `Retry-After` pauses every request until then.
/// - **A cut is checked while no noise is known.** A budget's 429s stop when the rate falls below it; 429s that do
///   not depend on the rate (another integration spending the account's budget, a console's odd refusal) keep
///   coming. So a cut is followed by a check, the rate held: the next 150 answers from half a second on (or 15 s of them). Not one
///   429 among them: the cut stands. Some 429s (at most half the answers): they are *noise* — the cut is undone (the
///   rate and ceiling of before it) and their share is the noise share.
/// - **Once noise is known**, a 429 cuts only while the share of 429s among the last 2 s of answers (at least 20) is
///   above twice the noise share plus 4 points: a budget reached on top of the noise. A 429 within that band pauses
///   nothing but its own request's retry. The noise share follows what the answers show (every 2 s, a tenth of the
///   way to the share then) and is forgotten when it falls below half a percent.
/// - **A 5xx is not the budget's signal**: a console's odd 500/502/503 is retried by the client and leaves the rate
///   alone — unless more than half the answers of the last 2 s (at least 10) are 5xx, an overloaded console, which
///   cuts 15 % at most once a second. Its `Retry-After` delays only that request's retry (a console's limits are per
///   endpoint; one refusal must not stop the others).
///
/// Before this rule every 429 and 503 cut 15 % and reset the ceiling to what the second before showed, so any
/// steady share of refusals — even one unrelated to the rate — ratcheted the rate down to the 0.5/s floor.
public struct AdaptiveRate: Sendable, Equatable {
    public static let initial = 10.0
    public static let minimum = 0.5
    public static let decrease = 0.85

    public private(set) var rate: Double
    public private(set) var maximum: Double
    /// The rate at the last throttle that counted; nil before the first.
    public private(set) var ceiling: Double?
    /// The share of 429s that does not depend on the rate, learnt from cuts that did not help; 0 until then.
    public private(set) var noise: Double = 0
    private var lastGrowth: ContinuousClock.Instant
    private var lastDecrease: ContinuousClock.Instant?
    private var lastOverloadCut: ContinuousClock.Instant?
    private var lastNoiseDecay: ContinuousClock.Instant
    /// The answers of the last 2 s (at most ``recentLimit``): when, and what.
    private var recent: [Answer] = []
    /// When the machine started: a second of answers must have been seen before they say what the console allows.
    private let started: ContinuousClock.Instant
    /// The cut under check, if any.
    private var episode: Episode?

    enum Outcome: UInt8, Sendable { case success, throttle, serverError }

    struct Answer: Sendable, Equatable {
        var at: ContinuousClock.Instant
        var outcome: Outcome
    }

    /// A cut whose effect is being checked.
    struct Episode: Sendable, Equatable {
        var rateBefore: Double
        var ceilingBefore: Double?
        /// Answers count from then on (those to requests sent before the cut have arrived).
        var countFrom: ContinuousClock.Instant
        var answers = 0
        var throttles = 0
    }

    static let recentLimit = 512
    static let checkAnswers = 150
    static let checkLongest: Duration = .seconds(15)

    public init(maximum: Double, now: ContinuousClock.Instant) {
        self.maximum = max(maximum, Self.minimum)
        self.rate = min(Self.initial, self.maximum)
        self.lastGrowth = now
        self.lastNoiseDecay = now
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
        let before = rate
        note(.success, now: now)
        decayNoise(now: now)
        let elapsed = (now - lastGrowth).inSeconds
        guard elapsed >= 0.1 else { return rate != before ? rate : nil }
        // A cut under check holds: were the rate to climb back over a budget meanwhile, its 429s would look like noise.
        guard episode == nil else {
            lastGrowth = now
            return rate != before ? rate : nil
        }
        lastGrowth = now
        let perSecond: Double
        if let ceiling {
            perSecond = rate < 0.95 * ceiling ? 0.10 : 0.005
        } else {
            perSecond = 0.25
        }
        var grown = rate * (1 + perSecond * min(elapsed, 2))
        if let ceiling, rate < 0.95 * ceiling { grown = min(grown, 0.95 * ceiling) }
        rate = min(grown, maximum)
        return rate != before ? rate : nil
    }

    /// A 429: the new rate, and the instant before which no request may be sent (from `Retry-After`, when the 429
    /// counts as the budget's signal).
    public mutating func throttled(now: ContinuousClock.Instant, retryAfter: Duration?) -> (rate: Double, pauseUntil: ContinuousClock.Instant?) {
        note(.throttle, now: now)
        if let episode, now >= episode.countFrom {
            // Under check: counted, not acted on (see ``note(_:now:)``).
            return (rate, nil)
        }
        if noise > 0, share(of: .throttle, now: now, atLeast: 20).map({ $0 <= 2 * noise + 0.04 }) ?? true {
            // Within the noise the console has shown: not the budget. Its own retry waits; nothing else does.
            return (rate, nil)
        }
        let pause = retryAfter.map { now + $0 }
        if let lastDecrease, now - lastDecrease < .milliseconds(300) { return (rate, pause) }
        let measured = now - started >= .seconds(1) ? Double(count(of: .success, since: now - .seconds(1))) : rate
        let shown = max(Self.minimum, min(rate, measured))
        if episode == nil, noise == 0 {
            episode = Episode(rateBefore: rate, ceilingBefore: ceiling, countFrom: now + .milliseconds(500))
        }
        // The first throttle ends the fast start, which may have overshot by far: halve, as TCP leaves slow start.
        rate = max(Self.minimum, shown * (ceiling == nil ? 0.5 : Self.decrease))
        ceiling = shown
        lastDecrease = now
        lastGrowth = now
        return (rate, pause)
    }

    /// A 5xx: the new rate when the console looks overloaded (more than half of the last 2 s of answers), else nil.
    public mutating func serverError(now: ContinuousClock.Instant) -> Double? {
        note(.serverError, now: now)
        guard let errors = share(of: .serverError, now: now, atLeast: 10), errors > 0.5 else { return nil }
        if let lastOverloadCut, now - lastOverloadCut < .seconds(1) { return nil }
        lastOverloadCut = now
        lastGrowth = now
        rate = max(Self.minimum, rate * Self.decrease)
        return rate
    }
}

extension AdaptiveRate {
    /// Records an answer, and checks the episode under way with it.
    private mutating func note(_ outcome: Outcome, now: ContinuousClock.Instant) {
        recent.append(Answer(at: now, outcome: outcome))
        let horizon = now - .seconds(2)
        var drop = 0
        while drop < recent.count, recent[drop].at < horizon || recent.count - drop > Self.recentLimit { drop += 1 }
        if drop > 0 { recent.removeFirst(drop) }
        guard var current = episode, now >= current.countFrom, outcome != .serverError else { return }
        current.answers += 1
        if outcome == .throttle { current.throttles += 1 }
        let share = Double(current.throttles) / Double(current.answers)
        let overwhelmed = current.answers >= 10 && share > 0.5
        let done = overwhelmed || current.answers >= Self.checkAnswers || (now - current.countFrom >= Self.checkLongest && current.answers >= 10)
        guard done else {
            episode = current
            return
        }
        episode = nil
        // No 429 since the cut: it was the budget. Half the answers refused or more: a budget spent (by whom does not
        // matter) — the cut stands, and the next 429 cuts again.
        guard current.throttles >= 1, !overwhelmed else {
            if overwhelmed { lastDecrease = nil }
            return
        }
        // The rate fell and the refusals did not stop: they are not the budget. Undo the cut, remember their share.
        noise = min(0.5, share)
        rate = min(current.rateBefore, maximum)
        ceiling = current.ceilingBefore
        lastNoiseDecay = now
    }

    /// Moves the noise share a tenth of the way to the share of the last 2 s, every 2 s; forgets it below 0.5 %.
    private mutating func decayNoise(now: ContinuousClock.Instant) {
        guard noise > 0, now - lastNoiseDecay >= .seconds(2), let observed = share(of: .throttle, now: now, atLeast: 20) else { return }
        lastNoiseDecay = now
        // A share above the band is a budget's refusals on top of the noise, not the noise: it does not count.
        guard observed <= 2 * noise + 0.04 else { return }
        noise = min(0.5, noise + (observed - noise) / 10)
        if noise < 0.005 { noise = 0 }
    }

    /// The share of `outcome` among the answers of the last 2 s; nil when there are fewer than `atLeast`.
    private func share(of outcome: Outcome, now: ContinuousClock.Instant, atLeast: Int) -> Double? {
        guard recent.count >= atLeast else { return nil }
        return Double(recent.lazy.filter { $0.outcome == outcome }.count) / Double(recent.count)
    }

    private func count(of outcome: Outcome, since instant: ContinuousClock.Instant) -> Int {
        recent.lazy.filter { $0.at >= instant && $0.outcome == outcome }.count
    }
}
