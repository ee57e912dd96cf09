import SentinelOne
import Testing

/// `--rate-limit auto`: the adaptive limiter's state machine, driven with made-up instants (no real time passes).
struct AdaptiveRateTests {
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
        // The answers to requests already on their way do not cut again within 300 ms…
        #expect(machine.throttled(now: at(3.2), retryAfter: nil).rate == rate)
        // …a later one does, by 15 % of the new showing.
        let second = machine.throttled(now: at(3.5), retryAfter: nil).rate
        #expect(second < rate)
    }

    @Test func belowTheCeilingItClimbsBackQuicklyThenProbesSlowly() {
        var machine = AdaptiveRate(maximum: 50, now: t0)
        _ = succeed(&machine, from: 0.1, to: 5)
        _ = machine.throttled(now: at(5.05), retryAfter: nil)
        let ceiling = machine.ceiling!
        // 10 % a second up to 95 % of the ceiling, not beyond in that phase.
        let climbed = succeed(&machine, from: 5.2, to: 15)
        #expect(climbed >= 0.95 * ceiling * 0.999 && climbed < ceiling, "\(climbed) vs ceiling \(ceiling)")
        // Then 0.5 % a second: ten more seconds add about 5 %.
        let probed = succeed(&machine, from: 15.1, to: 25)
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
        for step in 0..<20 { _ = floor.throttled(now: at(Double(step)), retryAfter: nil) }
        #expect(floor.rate == AdaptiveRate.minimum, "never below 0.5/s")
    }
}
