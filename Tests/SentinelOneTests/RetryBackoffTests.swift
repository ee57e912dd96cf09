import AsyncHTTPClient
import Pipeline
import Logging
import RawJSON
import Testing

@testable import SentinelOne

@Suite struct RetryBackoffTests {
    @Test func backoffIsJitteredUnderAGrowingCeilingAndHonoursRetryAfter() async throws {
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        var configuration = SentinelOneClient.Configuration(consoleURL: try ConsoleURL("http://127.0.0.1:1"), token: APIToken("t")!)
        configuration.retryDelay = .milliseconds(100)
        configuration.maximumRetryDelay = .seconds(1)
        let client = SentinelOneClient(configuration: configuration, httpClient: httpClient, logger: Logger(label: "test"))
        for attempt in 1...8 {
            let ceiling = min(Duration.milliseconds(100 * (1 << (attempt - 1))), .seconds(1))
            for _ in 0..<50 {
                let delay = client.backoff(attempt: attempt, retryAfter: nil)
                #expect(delay >= .zero && delay <= ceiling)
            }
        }
        #expect(client.backoff(attempt: 1, retryAfter: .milliseconds(700)) == .milliseconds(700))
        #expect(client.backoff(attempt: 1, retryAfter: .seconds(120)) == .seconds(1), "capped")
        #expect(SentinelOneClient.parseRetryAfter(" 3 ") == .seconds(3))
        try await httpClient.shutdown()
    }

    @Test func retryAfterTakesSecondsOrAnHTTPDate() throws {
        let now = try #require(RFC3339Timestamp("2015-10-21T07:27:50Z"))
        #expect(SentinelOneClient.parseRetryAfter(" 3 ", now: now) == .seconds(3))
        #expect(SentinelOneClient.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now: now) == .seconds(10))
        #expect(SentinelOneClient.parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now: now) == .zero, "a past date: retry now")
        #expect(SentinelOneClient.parseRetryAfter("Wednesday, 21-Oct-15 07:28:00 GMT", now: now) == nil, "obsolete form")
        #expect(SentinelOneClient.parseRetryAfter("-5", now: now) == nil)
        #expect(SentinelOneClient.parseRetryAfter("soon", now: now) == nil)
    }

    @Test func rateLimiterPacesRequestsAfterTheBurst() async throws {
        // 200 requests at 100/s with a burst of 10: the last may start no earlier than (200 − 10) / 100 s.
        let limiter = RequestRateLimiter(requestsPerSecond: 100, burst: 10)
        let started = ContinuousClock.now
        var waited = Duration.zero
        await withTaskGroup(of: Duration.self) { group in
            for _ in 0..<200 { group.addTask { (try? await limiter.acquire()) ?? .zero } }
            for await wait in group { waited += wait }
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(1900), "the limiter let requests through faster than 100/s")
        #expect(waited > .zero)
        #expect(try await RequestRateLimiter.unlimited.acquire() == .zero)
    }

    /// A stop ends every wait for a token at once, fixed and adaptive alike, and no token is given after it: at one
    /// request in 1,000 s the waits would otherwise last for ever (a `run --rate-limit 0.001` ignored SIGTERM).
    @Test(.timeLimit(.minutes(2))) func aStopEndsTheWaitsForATokenAndRefusesNewOnes() async throws {
        for limiter in [RequestRateLimiter(requestsPerSecond: 0.001), RequestRateLimiter(adaptiveMaximum: 0.001)] {
            let stop = StopSignal()
            _ = try await limiter.acquire(stop: stop)
            let began = ContinuousClock.now
            await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        do {
                            _ = try await limiter.acquire(stop: stop)
                            return false
                        } catch {
                            return true
                        }
                    }
                }
                // Time for the waiters to fall asleep (nothing else wakes them); one not yet asleep is refused alike.
                try? await Task.sleep(for: .milliseconds(50))
                stop.requestStop()
                for await stopped in group { #expect(stopped, "a waiter got a token after the stop") }
            }
            // Without the stop the waits last 1,000 s; the bound leaves room for a pool other suites keep busy (5 s
            // was met in 5.4 s once, in a full run).
            #expect(ContinuousClock.now - began < .seconds(60))
            await #expect(throws: RequestRateLimiter.Stopped.self) { try await limiter.acquire(stop: stop) }
        }
    }
}
