import DequeModule
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
///   the answers of the second before that were not 429s, no more than the rate then, or the rate itself when that
///   second sent fewer than half of it (half of it at the first throttle, which ends the fast start) — at most once in 300 ms (the answers to requests already on their way do not cut again); its
///   `Retry-After` pauses every request until then.
/// - **A cut is checked while no noise is known.** A budget's 429s stop when the rate falls below it; 429s that do
///   not depend on the rate (another integration spending the account's budget, a console's odd refusal) keep
///   coming. So a cut is followed by a check, the rate held: the next 60 answers from half a second on (or 8 s of
///   them, 16 s at a low rate). Not one 429 among them: the cut stands. A 429: the rate is cut 15 % more and checked again (a first cut
///   can land above the budget when the second before showed more than it allows). A 429 again: they are *noise* —
///   the cuts are undone (the rate of before them; the ceiling forgotten, to be found again above the noise), and
///   their share is guessed from the answers counted (at most 10 %) and then follows the answers. While a check runs,
///   a 429 cuts nothing more.
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
    /// The answers of the last 2 s, and at least the last ``windowMinimum`` (at most ``recentLimit``): when, and what.
    private var recent: Deque<Answer> = []
    /// How many of `recent` are of each outcome (by raw value): a share is read without a scan.
    private var recentCounts: [Int] = [0, 0, 0]
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
        /// A 429 in the first check may still be the budget (the first cut can land above it, when the second before
        /// showed more than it allows): the rate is cut once more and checked again; only a 429 then is noise.
        var secondCheck = false
    }

    static let recentLimit = 512
    /// Shares are taken over at least this many answers: at a low rate, 2 s hold too few to tell a share.
    static let windowMinimum = 50
    static let checkAnswers = 60
    static let checkLongest: Duration = .seconds(8)

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
        if episode != nil {
            // Under check: counted (see ``note(_:now:)``), or an answer to a request sent before the cut; not acted on.
            return (rate, nil)
        }
        let throttleShare = share(of: .throttle, now: now, atLeast: 20)
        if noise > 0, throttleShare.map({ $0 <= noiseBand }) ?? true {
            // Within the noise the console has shown: not the budget. Its own retry waits; nothing else does.
            return (rate, nil)
        }
        let pause = retryAfter.map { now + $0 }
        if let lastDecrease, now - lastDecrease < .milliseconds(300) { return (rate, pause) }
        // What the console let through: every answer of the last second that was not a 429 (a 5xx was let through
        // too) — when that second sent enough to tell: a second with few requests (the pipeline starting, a list page
        // on its way) says nothing of the budget, and the rate itself is the estimate.
        let lastSecond = answers(since: now - .seconds(1))
        let measured = now - started >= .seconds(1) && Double(lastSecond) >= 0.5 * rate
            ? Double(lastSecond - count(of: .throttle, since: now - .seconds(1))) : rate
        let shown = max(Self.minimum, min(rate, measured))
        if episode == nil, noise == 0 {
            episode = Episode(rateBefore: rate, ceilingBefore: ceiling, countFrom: now + .milliseconds(500))
        }
        // The first throttle ends the fast start, which may have overshot by far: halve, as TCP leaves slow start.
        rate = max(Self.minimum, shown * (ceiling == nil ? 0.5 : Self.decrease))
        // With noise known, a cut just above the band may be the noise's doing (by chance): the ceiling then comes
        // down a tenth at a time, so a chance cut costs little; a share well above the band sets it at once.
        let marginal = noise > 0 && (throttleShare ?? 0) <= 1.5 * noiseBand
        ceiling = marginal ? max(shown, (ceiling ?? shown) * 0.9) : shown
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
        recentCounts[Int(outcome.rawValue)] += 1
        let horizon = now - .seconds(2)
        while let first = recent.first,
            (first.at < horizon && recent.count > Self.windowMinimum) || recent.count > Self.recentLimit
        {
            recentCounts[Int(recent.removeFirst().outcome.rawValue)] -= 1
        }
        guard var current = episode, now >= current.countFrom, outcome != .serverError else { return }
        current.answers += 1
        if outcome == .throttle { current.throttles += 1 }
        // A 429 after the cut (the rate held below what the console let through) ends the check: not the budget. (A
        // console refusing nearly everything then still cuts: its share is far above the noise band.)
        // Long enough to tell: 60 answers, or 8 s with at least 30 of them, or 16 s at a low rate.
        let elapsed = now - current.countFrom
        let done = current.throttles >= 1 || current.answers >= Self.checkAnswers
            || (elapsed >= Self.checkLongest && current.answers >= Self.checkAnswers / 2) || elapsed >= Self.checkLongest * 2
        guard done else {
            episode = current
            return
        }
        episode = nil
        // No 429 since the cut: it was the budget, the cut stands.
        guard current.throttles >= 1 else { return }
        if !current.secondCheck {
            rate = max(Self.minimum, rate * Self.decrease)
            lastDecrease = now
            lastGrowth = now
            episode = Episode(rateBefore: current.rateBefore, ceilingBefore: current.ceilingBefore, countFrom: now + .milliseconds(500), secondCheck: true)
            return
        }
        // The rate fell and the refusals did not stop: they are not the budget. Undo the cut; their share, first
        // guessed from one refusal (no more than 10 %), then follows the answers (``decayNoise(now:)``).
        noise = min(0.1, max(0.01, 1 / Double(max(current.answers, 20))))
        rate = min(current.rateBefore, maximum)
        // Every ceiling so far may have been the noise's doing: found again, above the noise band.
        ceiling = nil
        lastNoiseDecay = now
    }

    /// The 429 share above which a 429 is the budget's, once noise is known: twice the noise, plus three standard
    /// deviations of a share over the answers held (at least 4 points).
    private var noiseBand: Double {
        let answers = Double(max(recent.count, 1))
        return 2 * noise + max(0.04, 3 * (noise * (1 - noise) / answers).squareRoot())
    }

    /// Moves the noise share a tenth of the way to the share of the last 2 s, every 2 s; forgets it below 0.5 %.
    private mutating func decayNoise(now: ContinuousClock.Instant) {
        guard noise > 0, now - lastNoiseDecay >= .seconds(2), let observed = share(of: .throttle, now: now, atLeast: 20) else { return }
        lastNoiseDecay = now
        // A share above the band is a budget's refusals on top of the noise, not the noise: it does not count.
        guard observed <= noiseBand else { return }
        noise = min(0.5, noise + (observed - noise) / 10)
        if noise < 0.005 { noise = 0 }
    }

    /// The share of `outcome` among the answers of the last 2 s; nil when there are fewer than `atLeast`.
    private func share(of outcome: Outcome, now: ContinuousClock.Instant, atLeast: Int) -> Double? {
        guard recent.count >= atLeast else { return nil }
        return Double(recentCounts[Int(outcome.rawValue)]) / Double(recent.count)
    }

    private func count(of outcome: Outcome, since instant: ContinuousClock.Instant) -> Int {
        var count = 0
        for answer in recent.reversed() {
            guard answer.at >= instant else { break }
            if answer.outcome == outcome { count += 1 }
        }
        return count
    }

    private func answers(since instant: ContinuousClock.Instant) -> Int {
        var count = 0
        for answer in recent.reversed() {
            guard answer.at >= instant else { break }
            count += 1
        }
        return count
    }
}
