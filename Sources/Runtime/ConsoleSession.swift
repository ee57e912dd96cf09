import AsyncHTTPClient
import Durations
import Foundation
import Logging
import NIOCore
import NIOSSL
import Pipeline
import SentinelOne
import NIOHTTPCompression

/// What every request to one console shares for the life of a command: the pooled HTTP client (TLS and proxy
/// settled), the rate limiter and the request counters.
public struct ConsoleSession: Sendable {
    public let configuration: ConsoleConfiguration
    let httpClient: HTTPClient
    let rateLimiter: RequestRateLimiter
    /// Every request's count, retries and rate-limit wait.
    public let statistics = RequestStatistics()

    public var console: ConsoleURL { configuration.console }

    /// Builds the session from the configuration (proxy variables from its environment); warns on standard error
    /// when TLS verification is off. The caller calls ``shutdown()``.
    public init(configuration options: ConsoleConfiguration, logger: Logger) throws {
        let console = options.console
        if options.insecureSkipTLSVerify {
            printError(
                "threatpipe: WARNING: --insecure-skip-tls-verify: the console's TLS certificate is NOT verified; "
                    + "anyone between here and \(console.host) can read the API token and the threats"
            )
        }
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(
            connect: .nanoseconds(options.connectTimeout.saturatingNanoseconds),
            read: .nanoseconds(options.requestTimeout.saturatingNanoseconds)
        )
        configuration.decompression = .enabled(limit: .ratio(50))
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: options.concurrency * 2 + 2
        )
        configuration.tlsConfiguration = try Self.tlsConfiguration(options: options)
        if let proxy = try ProxySettings.forConsole(console, environment: options.environment) {
            configuration.proxy = .server(
                host: proxy.host,
                port: proxy.port,
                authorization: proxy.credentials.map { .basic(username: $0.user, password: $0.password) }
            )
            logger.info("connecting through a proxy", metadata: ["proxy": "\(proxy.host):\(proxy.port)"])
        }
        self.configuration = options
        self.httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.rateLimiter = options.adaptiveRateLimit.map { RequestRateLimiter(adaptiveMaximum: $0) }
            ?? RequestRateLimiter(requestsPerSecond: options.rateLimit)
    }

    /// Certificate verification on, plus the private CA of `--ca-file`; off only with `--insecure-skip-tls-verify`.
    private static func tlsConfiguration(options: ConsoleConfiguration) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = options.caFile {
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(caFile)
            } catch {
                throw ConfigurationError(description: "--ca-file \(caFile): not a readable PEM certificate file (\(error))")
            }
            guard !certificates.isEmpty else {
                throw ConfigurationError(description: "--ca-file \(caFile): holds no PEM certificate")
            }
            tls.additionalTrustRoots = [.certificates(certificates)]
        }
        if options.insecureSkipTLSVerify {
            tls.certificateVerification = .none
        }
        return tls
    }

    /// A client of the console for one source; every client of the session shares its limiter and counters. A stop
    /// raised on `stop` ends its waits for a rate-limit token or a retry at once, and nothing more is sent.
    public func client(token: APIToken, stop: StopSignal? = nil, logger: Logger) -> SentinelOneClient {
        let options = self.configuration
        var configuration = SentinelOneClient.Configuration(consoleURL: console, token: token)
        configuration.requestTimeout = .nanoseconds(options.requestTimeout.saturatingNanoseconds)
        configuration.maximumAttempts = options.maximumRetries + 1
        configuration.maximumTotalRetryWait = options.maximumRetryWait
        configuration.maximumResponseBytes = options.maximumResponseBytes
        return SentinelOneClient(
            configuration: configuration,
            httpClient: httpClient,
            rateLimiter: rateLimiter,
            statistics: statistics,
            stop: stop,
            logger: logger
        )
    }

    public func shutdown() async {
        try? await httpClient.shutdown()
    }
}

extension ConsoleSession {
    /// Changes the request rate every client of the session shares (a group process's share of the console's
    /// budget); a positive rate only.
    public func setRateLimit(_ requestsPerSecond: Double) {
        rateLimiter.setRate(requestsPerSecond)
    }

    /// The adaptive limiter's rate now (nil for a fixed limit): for the summary line.
    public var adaptiveRate: Double? { rateLimiter.isAdaptive ? rateLimiter.requestsPerSecond : nil }
}
