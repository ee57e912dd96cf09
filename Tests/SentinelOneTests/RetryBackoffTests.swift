import AsyncHTTPClient
import Logging
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
        #expect(SentinelOneClient.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == nil)
        try await httpClient.shutdown()
    }
}
