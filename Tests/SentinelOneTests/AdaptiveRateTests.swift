import SentinelOne
import Testing

/// `--rate-limit auto`: the adaptive limiter's state machine, driven with made-up instants (no real time passes).
/// Serialized: the simulations keep a core busy for a moment, and a timing test elsewhere needs the pool's other thread.
@Suite(.serialized) struct AdaptiveRateTests {
    let t0 = ContinuousClock.now

    func at(_ seconds: Double) -> ContinuousClock.Instant { t0 + .milliseconds(Int64(seconds * 1000)) }

    /// 2xx answers every 100 ms from `from` to `to` seconds; returns the rate at the end.
    func succeed(_ machine: inout AdaptiveRate, from: Double, to: Double) -> Double {
        var time = from
        while time <= to + 1e-9 {
            _ = machine.succeeded(now: at(time))
            time += 0.1
        }
        return machine.rate
    }

    /// A group process's share of `auto:MAX` is its ceiling: the rate is cut to it at once and never grows past
    /// it; a larger share (shards moved here) lets it grow again. Before, the share was ignored for `auto`, and every
    /// process of a group chased the console's whole limit.
    @Test func aShareOfTheBudgetIsTheCeiling() {
        var machine = AdaptiveRate(maximum: 50, now: t0)
        _ = succeed(&machine, from: 0.1, to: 10)
        #expect(machine.rate > 40)
        #expect(machine.setMaximum(12.5) == 12.5)
        #expect(succeed(&machine, from: 10.1, to: 30) == 12.5)
        _ = machine.setMaximum(25)
        let grown = succeed(&machine, from: 30.1, to: 60)
        #expect(grown > 12.5 && grown <= 25, "\(grown)")

        let limiter = RequestRateLimiter(adaptiveMaximum: 50)
        limiter.setRate(5)
        #expect(limiter.adaptiveMaximum == 5)
        #expect(limiter.requestsPerSecond == 5, "cut to the share at once (it started at 10)")
        limiter.observe(status: 200, retryAfter: nil)
        #expect((limiter.requestsPerSecond ?? 0) <= 5)
    }

    @Test func itStartsAtTenAndGrowsFastUntilTheFirstThrottle() {
        var machine = AdaptiveRate(maximum: 50, now: t0)
        #expect(machine.rate == 10)
        #expect(machine.succeeded(now: at(0.05)) == nil, "grows at most every 100 ms")
        let after = succeed(&machine, from: 0.1, to: 2)
        // 25 % a second, compounded every 100 ms: about 10 × 1.025^20.
        #expect(after > 15 && after < 17.5, "\(after)")
        #expect(machine.ceiling == nil)
    }

    @Test func aThrottleCutsToWhatTheConsoleShowedAndSetsTheCeiling() {
        var machine = AdaptiveRate(maximum: 50, now: t0)
        _ = succeed(&machine, from: 0.1, to: 3)   // 30 answers in the last second… about 10 a second
        let before = machine.rate
        let (rate, pause) = machine.throttled(now: at(3.05), retryAfter: nil)
        #expect(pause == nil)
        // The first throttle halves what the last second's answers showed (10), ending the fast start.
        #expect(machine.ceiling == min(before, 10))
        #expect(rate == min(before, 10) * 0.5)
        // The answers to requests already on their way do not cut again, nor does a 429 while the cut is checked…
        #expect(machine.throttled(now: at(3.2), retryAfter: nil).rate == rate)
        #expect(machine.throttled(now: at(3.7), retryAfter: nil).rate == rate * AdaptiveRate.decrease, "a 429 in the check: cut once more")
        // …and a 429 in the second check says noise: the cuts are undone and the ceiling forgotten.
        _ = succeed(&machine, from: 4.3, to: 4.6)
        #expect(machine.throttled(now: at(4.7), retryAfter: nil).rate == before)
        #expect(machine.ceiling == nil && machine.noise > 0)
    }

    @Test func belowTheCeilingItClimbsBackQuicklyThenProbesSlowly() {
        var machine = AdaptiveRate(maximum: 50, now: t0)
        _ = succeed(&machine, from: 0.1, to: 5)
        _ = machine.throttled(now: at(5.05), retryAfter: nil)
        let ceiling = machine.ceiling!
        let cut = machine.rate
        // The cut is checked first, the rate held: 60 answers without a 429 (6 s of them at 10 a second).
        #expect(succeed(&machine, from: 5.2, to: 11.4) == cut)
        // Then 10 % a second up to 95 % of the ceiling, not beyond in that phase.
        let climbed = succeed(&machine, from: 11.7, to: 24)
        #expect(climbed >= 0.95 * ceiling * 0.999 && climbed < ceiling, "\(climbed) vs ceiling \(ceiling)")
        // Then 0.5 % a second: ten more seconds add about 5 %.
        let probed = succeed(&machine, from: 24.1, to: 34)
        #expect(probed > climbed && probed < climbed * 1.06, "\(probed) after \(climbed)")
    }

    @Test func retryAfterPausesAndTheMaximumAndMinimumHold() {
        var capped = AdaptiveRate(maximum: 12, now: t0)
        #expect(succeed(&capped, from: 0.1, to: 10) == 12, "never above MAX")
        var low = AdaptiveRate(maximum: 4, now: t0)
        #expect(low.rate == 4, "starts at MAX when it is below 10")
        let (rate, pause) = low.throttled(now: at(1.5), retryAfter: .seconds(2))
        #expect(pause == at(3.5), "Retry-After: nothing before then")
        #expect(rate >= AdaptiveRate.minimum)
        var floor = AdaptiveRate(maximum: 1, now: t0)
        for step in 0..<80 { _ = floor.throttled(now: at(Double(step)), retryAfter: nil) }
        #expect(floor.rate == AdaptiveRate.minimum, "never below 0.5/s")
    }

    /// A console simulated at made-up instants: requests go out at the machine's rate, each answered at once with
    /// `answer(requestNumber, second)` (a status). Returns the mean rate of the last `tail` seconds and the statuses.
    func simulate(
        _ machine: inout AdaptiveRate, from start: Double = 0, seconds: Double, tail: Double = 20, answer: (Int, Double) -> Int
    ) -> (meanRate: Double, statuses: [Int: Int]) {
        var time = start
        let end = start + seconds
        var number = 0
        var statuses: [Int: Int] = [:]
        var tailSum = 0.0
        var tailSamples = 0
        var pausedUntil = 0.0
        while time < end {
            time = max(time + 1 / machine.rate, pausedUntil)
            number += 1
            let status = answer(number, time)
            statuses[status, default: 0] += 1
            switch status {
            case 200: _ = machine.succeeded(now: at(time))
            case 429:
                if let pause = machine.throttled(now: at(time), retryAfter: .seconds(1)).pauseUntil {
                    pausedUntil = time + Double((pause - at(time)).components.seconds) + Double((pause - at(time)).components.attoseconds) / 1e18
                }
            default: _ = machine.serverError(now: at(time))
            }
            if time >= end - tail {
                tailSum += machine.rate
                tailSamples += 1
            }
        }
        return (tailSum / Double(max(tailSamples, 1)), statuses)
    }

    /// A token bucket of `limit` requests a second (a burst of `limit`), as the emulator's `limit=R`.
    final class Bucket {
        let limit: Double
        var tokens: Double
        var last = 0.0
        init(_ limit: Double) { self.limit = limit; tokens = limit }
        func take(at time: Double) -> Bool {
            tokens = min(limit, tokens + (time - last) * limit)
            last = time
            guard tokens >= 1 else { return false }
            tokens -= 1
            return true
        }
    }

    /// A first 429 while the pipeline is starting (a list page on its way, one answer in the second before) is no
    /// measure of the budget: the cut starts from the rate, not from the one answer (it went to the 0.5/s floor and
    /// held there while the cut was checked).
    @Test func aThrottleAfterAQuietSecondCutsFromTheRate() {
        var machine = AdaptiveRate(maximum: 50, now: t0)
        _ = machine.succeeded(now: at(1.2))
        let before = machine.rate
        let (rate, _) = machine.throttled(now: at(1.4), retryAfter: nil)
        #expect(rate == before / 2, "\(rate) from \(before)")
    }

    /// No limit, a 503 on every 10th request: the 503s are not the budget — auto climbs to MAX and stays there.
    /// (Before, each 503 cut 15 % and the rate ratcheted down to the floor.)
    @Test func aSteadyShareOf503sLeavesTheRateAtMax() {
        var machine = AdaptiveRate(maximum: 50, now: t0)
        let (mean, _) = simulate(&machine, seconds: 60) { number, _ in number % 10 == 0 ? 503 : 200 }
        #expect(mean >= 0.9 * 50, "\(mean)")
    }

    /// A limit of 25/s and a 503 on every 13th request: the rate holds near the limit with few 429s.
    @Test func aLimitWithA503ShareIsFoundAndHeld() {
        var machine = AdaptiveRate(maximum: 50, now: t0)
        let bucket = Bucket(25)
        let (mean, statuses) = simulate(&machine, seconds: 120, tail: 60) { number, time in
            guard bucket.take(at: time) else { return 429 }
            return number % 13 == 0 ? 503 : 200
        }
        let total = statuses.values.reduce(0, +)
        #expect(mean >= 0.85 * 25 && mean <= 27, "\(mean)")
        #expect(Double(statuses[429] ?? 0) / Double(total) <= 0.02, "\(statuses)")
    }

    /// A limit below the start (8) or above it (25), found with few refusals: a first cut that lands above the
    /// limit (the second before showed the bucket's burst) is cut again, never taken for noise.
    @Test(arguments: [8.0, 25.0]) func aLimitIsFoundWithFewRefusals(_ limit: Double) {
        var machine = AdaptiveRate(maximum: 50, now: t0)
        let bucket = Bucket(limit)
        let (mean, statuses) = simulate(&machine, seconds: 120, tail: 60) { _, time in bucket.take(at: time) ? 200 : 429 }
        let total = statuses.values.reduce(0, +)
        #expect(mean >= 0.85 * limit && mean <= 1.1 * limit, "\(mean)")
        #expect(Double(statuses[429] ?? 0) / Double(total) <= 0.02, "\(statuses)")
        #expect(machine.noise == 0, "a budget is not noise")
    }

    /// No limit, a 429 on every 20th request whatever the rate (another integration spends the budget): a cut does
    /// not stop them, so it is undone and their share learnt as noise — auto holds near MAX instead of ratcheting.
    @Test(arguments: [10, 20, 50]) func aRateIndependentShareOf429sIsLearntAsNoise(_ every: Int) {
        var machine = AdaptiveRate(maximum: 50, now: t0)
        let (mean, _) = simulate(&machine, seconds: 90, tail: 30) { number, _ in number % every == 0 ? 429 : 200 }
        #expect(mean >= 0.8 * 50, "\(mean), noise \(machine.noise)")
        #expect(machine.noise > 0)
    }

    /// The same with refusals at random (a seeded generator), 3 % and 8 % of the requests.
    @Test(arguments: [3, 8]) func aRandomShareOf429sIsLearntAsNoise(_ percent: UInt64) {
        var machine = AdaptiveRate(maximum: 50, now: t0)
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        let (mean, statuses) = simulate(&machine, seconds: 120, tail: 60) { _, _ in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (seed >> 33) % 100 < percent ? 429 : 200
        }
        #expect(mean >= 0.8 * 50, "\(mean), noise \(machine.noise), \(statuses)")
    }

    /// Noise learnt, then a real limit appears below the rate: its 429s rise above the noise and cut.
    @Test func aLimitAboveTheNoiseStillCuts() {
        var machine = AdaptiveRate(maximum: 50, now: t0)
        _ = simulate(&machine, seconds: 60) { number, _ in number % 20 == 0 ? 429 : 200 }
        let bucket = Bucket(20)
        bucket.last = 60
        let (mean, _) = simulate(&machine, from: 60, seconds: 60, tail: 20) { number, time in
            guard bucket.take(at: time) else { return 429 }
            return number % 20 == 0 ? 429 : 200
        }
        // Held within about a tenth above it: the band tolerates refusals up to twice the noise before it cuts.
        #expect(mean <= 23, "\(mean)")
    }

    /// An overloaded console (most answers 5xx) is slowed; the odd 5xx is not.
    @Test func mostAnswers5xxIsOverloadAndCuts() {
        var machine = AdaptiveRate(maximum: 50, now: t0)
        _ = succeed(&machine, from: 0.1, to: 5)
        let before = machine.rate
        var cut: Double?
        for step in 0..<60 { cut = machine.serverError(now: at(5.05 + Double(step) * 0.01)) ?? cut }
        #expect(cut.map { $0 < before } == true, "\(String(describing: cut)) vs \(before)")
    }
}
