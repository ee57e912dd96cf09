import Durations
import Foundation
import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Pipeline
import RawJSON
import CoreMetrics

/// A client of the SentinelOne management API over AsyncHTTPClient: authenticated GETs with bounded bodies, paced by
/// a shared rate limiter, with a few retries of transient failures (429, 5xx, broken connections, broken answers).
public struct SentinelOneClient: Sendable {
    /// How the client talks to the console.
    public struct Configuration: Sendable {
        public var consoleURL: ConsoleURL
        public var token: APIToken
        /// Time allowed for one request, from sending to the last byte of the body.
        public var requestTimeout: TimeAmount = .seconds(60)
        /// A body larger than this is an error for that request, not an out-of-memory.
        public var maximumResponseBytes = 64 * 1024 * 1024
        /// Tries per request, the first included, for transient failures (429, 5xx, broken connections).
        public var maximumAttempts = 11
        /// The backoff before retry n is a random time up to `retryDelay × 2^(n-1)` ("full jitter"), at most
        /// `maximumRetryDelay`; a `Retry-After` the console sends is honoured up to `maximumRetryDelay`.
        public var retryDelay: Duration = .milliseconds(500)
        public var maximumRetryDelay: Duration = .seconds(30)
        /// The most time one request may spend in backoff over all its retries, failed connection attempts
        /// included (so an unreachable console fails in about this time): the last wait is shortened to fit,
        /// and when nothing is left (or the console's `Retry-After` asks for more) the last failure is reported.
        public var maximumTotalRetryWait: Duration = .seconds(20)

        public init(consoleURL: ConsoleURL, token: APIToken) {
            self.consoleURL = consoleURL
            self.token = token
        }
    }

    public let configuration: Configuration
    let httpClient: HTTPClient
    let logger: Logger
    /// Shared by every client of the same console.
    let rateLimiter: RequestRateLimiter
    /// Shared by every client of the same console.
    public let statistics: RequestStatistics
    /// When raised, a request waiting for a rate-limit token or a retry is not sent: it fails with
    /// ``SentinelOneError/Code/stopped`` at once.
    let stop: StopSignal?

    public init(
        configuration: Configuration,
        httpClient: HTTPClient,
        rateLimiter: RequestRateLimiter = .unlimited,
        statistics: RequestStatistics = RequestStatistics(),
        stop: StopSignal? = nil,
        logger: Logger
    ) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.rateLimiter = rateLimiter
        self.statistics = statistics
        self.stop = stop
        self.logger = logger
    }

    /// GETs `path` with `query`; returns the 2xx answer or throws a ``SentinelOneError``.
    public func get(_ path: String, query: String = "") async throws(SentinelOneError) -> APIResponse {
        try await get(path, query: query) { response throws(SentinelOneError) in response }
    }

    /// GETs `path` with `query` and reads the answer with `parse`. Transient failures — 429, 5xx, broken
    /// connections, timeouts, and answers that are not the documented JSON (malformed, truncated, HTML, no `data`) —
    /// are tried again with backoff, the same request each time (a page is retried at its own cursor).
    public func get<Value>(
        _ path: String,
        query: String = "",
        parse: (APIResponse) throws(SentinelOneError) -> Value
    ) async throws(SentinelOneError) -> Value {
        let url = configuration.consoleURL.url(path: path, query: query)
        var attempt = 1
        var waited = Duration.zero
        while true {
            var attemptStarted = ContinuousClock.now
            do throws(AttemptFailure) {
                let rateLimitWait: Duration
                do {
                    rateLimitWait = try await rateLimiter.acquire(stop: stop)
                } catch {
                    throw AttemptFailure(error: .stopped(path))
                }
                attemptStarted = .now
                if rateLimitWait > .milliseconds(500) {
                    logger.debug("waited for the rate limiter", metadata: ["path": "\(path)", "wait": "\(rateLimitWait)"])
                }
                statistics.recordRequest(rateLimitWait: rateLimitWait)
                if rateLimitWait > .zero { APIMetrics.rateLimitWait.increment(by: rateLimitWait.inSeconds) }
                let response = try await getOnce(url: url, path: path)
                do {
                    return try parse(response)
                } catch {
                    throw AttemptFailure(error: error)
                }
            } catch {
                if error.isConnectFailure { waited += ContinuousClock.now - attemptStarted }
                guard isTransient(error.error), attempt < configuration.maximumAttempts, !Task.isCancelled,
                    let delay = retryDelay(attempt: attempt, retryAfter: error.retryAfter, alreadyWaited: waited)
                else { throw error.error }
                logger.warning(
                    "retrying request",
                    metadata: ["path": "\(path)", "attempt": "\(attempt)", "delay": "\(delay)", "error": "\(error.error)"]
                )
                statistics.recordRetry(after: delay)
                APIMetrics.retry(path: path)
                if let stop {
                    if await !stop.sleep(until: .now + delay), stop.isStopRequested { throw .stopped(path) }
                } else {
                    try? await Task.sleep(for: delay)
                }
                waited += delay
                attempt += 1
            }
        }
    }

    /// The wait before retry number `attempt`, within what is left of `maximumTotalRetryWait`; `nil` when no retry
    /// fits: the budget is spent, or the console asked for a longer pause than is left.
    func retryDelay(attempt: Int, retryAfter: Duration?, alreadyWaited: Duration) -> Duration? {
        let left = configuration.maximumTotalRetryWait - alreadyWaited
        let delay = backoff(attempt: attempt, retryAfter: retryAfter)
        if retryAfter != nil { return delay <= left ? delay : nil }
        return left > .zero ? min(delay, left) : nil
    }

    /// The wait before retry number `attempt`.
    func backoff(attempt: Int, retryAfter: Duration?) -> Duration {
        if let retryAfter { return min(retryAfter, configuration.maximumRetryDelay) }
        let ceiling = min(configuration.retryDelay * (1 << min(attempt - 1, 20)), configuration.maximumRetryDelay)
        return ceiling * Double.random(in: 0...1)
    }

    /// A failed attempt, with the console's `Retry-After` when it sent one.
    struct AttemptFailure: Error {
        var error: SentinelOneError
        var retryAfter: Duration?
        /// No connection could be made: the attempt's time was spent waiting for a console that is not there, and
        /// counts towards `maximumTotalRetryWait` like a backoff.
        var isConnectFailure = false
    }

    private func getOnce(url: String, path: String) async throws(AttemptFailure) -> APIResponse {
        let response: ResponseBodyCollector.CollectedResponse
        do {
            let request = try HTTPClient.Request(url: url, method: .GET, headers: requestHeaders)
            let task = httpClient.execute(
                request: request,
                delegate: ResponseBodyCollector(maximumBytes: configuration.maximumResponseBytes),
                eventLoop: .indifferent,
                deadline: .now() + configuration.requestTimeout,
                logger: nil
            )
            response = try await withTaskCancellationHandler {
                try await task.futureResult.get()
            } onCancel: {
                task.cancel()
            }
        } catch {
            APIMetrics.request(path: path, status: nil)
            throw attemptFailure(error, path: path)
        }
        let headers = response.head.headers
        let requestID = headers.first(name: "X-RQID")
        let status = Int(response.head.status.code)
        APIMetrics.request(path: path, status: status)
        let retryAfter = headers.first(name: "Retry-After").flatMap { Self.parseRetryAfter($0) }
        if let rate = rateLimiter.observe(status: status, retryAfter: retryAfter), status == 429 || status >= 500 {
            logger.debug("adaptive rate limit cut", metadata: ["status": "\(status)", "rate": "\(rate)"])
        }
        guard (200..<300).contains(status) else {
            throw AttemptFailure(
                error: Self.statusError(status: status, path: path, body: response.body, requestID: requestID),
                retryAfter: retryAfter
            )
        }
        return APIResponse(status: status, body: response.body, requestID: requestID)
    }

    /// The same for every request: the token, JSON, gzip.
    private var requestHeaders: HTTPHeaders {
        [
            "Authorization": configuration.token.authorization,
            "Accept": "application/json",
            "Accept-Encoding": "gzip",
            "User-Agent": "threatpipe",
        ]
    }

    private func isTransient(_ error: SentinelOneError) -> Bool {
        error.code == .unreachable || error.code == .unavailable || error.code == .malformedResponse
    }

    static func statusError(status: Int, path: String, body: ByteBuffer, requestID: String?) -> SentinelOneError {
        let detail = (ErrorEnvelope.detail(in: body) ?? excerpt(of: body)).map { ": \($0)" } ?? ""
        let code: SentinelOneError.Code
        let meaning: String
        switch status {
        case 401:
            code = .unauthorized
            meaning = "the console rejected the API token"
        case 403:
            code = .forbidden
            meaning = "the API token is not allowed to read this"
        case 404:
            code = .notFound
            meaning = "not found"
        case 429, 500..<600:
            code = .unavailable
            meaning = "the console is unavailable"
        default:
            code = .rejected
            meaning = "the console rejected the request"
        }
        return SentinelOneError(
            code: code,
            message: "GET \(path): \(meaning) (HTTP \(status))\(detail)",
            httpStatus: status,
            requestID: requestID
        )
    }

    /// The start of a body, on one line: what an unexpected answer (an HTML page from a proxy, say) looked like.
    static func excerpt(of body: ByteBuffer) -> String? {
        guard body.readableBytes > 0 else { return nil }
        let text = body.withUnsafeReadableBytes { String(decoding: $0.prefix(120), as: UTF8.self) }
        return "body starts: " + String(text.map { $0.isNewline ? " " : $0 })
    }

    /// `Retry-After` as delay-seconds or as an HTTP-date (`Sun, 06 Nov 1994 08:49:37 GMT`), relative to `now`.
    static func parseRetryAfter(_ value: String, now: RFC3339Timestamp = .now) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed) { return seconds >= 0 ? .seconds(seconds) : nil }
        guard let date = HTTPDate.parse(trimmed) else { return nil }
        let microseconds = max(0, date.microseconds - now.microseconds)
        return .microseconds(microseconds)
    }

    /// What a request that got no answer failed of: a body over the limit, a TLS handshake (not retried), or the
    /// connection.
    private func attemptFailure(_ error: any Error, path: String) -> AttemptFailure {
        switch error {
        case is NIOTooManyBytesError:
            return AttemptFailure(error: SentinelOneError(
                code: .responseTooLarge,
                message: "GET \(path): the body exceeds \(configuration.maximumResponseBytes) bytes"
            ))
        case is NIOSSLError, is BoringSSLError:
            return AttemptFailure(error: SentinelOneError(
                code: .tlsFailure,
                message: "GET \(configuration.consoleURL)\(path): TLS handshake failed (\(error)); "
                    + "for a console behind a private CA pass --ca-file"
            ))
        default:
            return AttemptFailure(
                error: SentinelOneError(code: .unreachable, message: "GET \(configuration.consoleURL)\(path): \(Self.describe(error))"),
                isConnectFailure: Self.isConnectFailure(error)
            )
        }
    }

    /// Whether the request failed before a connection was made (refused, unresolvable, connect timeout), as
    /// opposed to a timeout or a broken connection once connected.
    static func isConnectFailure(_ error: any Error) -> Bool {
        guard let error = error as? HTTPClientError else { return true }
        return error == .connectTimeout
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "connection timed out"
            case .readTimeout, .deadlineExceeded: return "request timed out"
            case .remoteConnectionClosed: return "the console closed the connection"
            default: return String(describing: error)
            }
        }
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        return text
    }
}
