import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOSSL
import SentinelOne

/// What every request to one console shares for the life of a command: the pooled HTTP client (TLS and proxy
/// settled), the rate limiter and the request counters.
struct ConsoleSession: Sendable {
    let console: ConsoleURL
    let httpClient: HTTPClient
    let rateLimiter: RequestRateLimiter
    let statistics = RequestStatistics()

    /// Builds the session from the options and the environment (proxy variables); the caller calls ``shutdown()``.
    init(options: SourceOptions, console: ConsoleURL, environment: [String: String], logger: Logger) throws {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(
            connect: .seconds(Int64(options.connectTimeout)),
            read: .seconds(Int64(options.requestTimeout))
        )
        configuration.decompression = .enabled(limit: .ratio(50))
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: options.concurrency * 2 + 2
        )
        configuration.tlsConfiguration = try Self.tlsConfiguration(options: options)
        if let proxy = try ProxySettings.forConsole(console, environment: environment) {
            configuration.proxy = .server(
                host: proxy.host,
                port: proxy.port,
                authorization: proxy.credentials.map { .basic(username: $0.user, password: $0.password) }
            )
            logger.info("connecting through a proxy", metadata: ["proxy": "\(proxy.host):\(proxy.port)"])
        }
        self.console = console
        self.httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.rateLimiter = RequestRateLimiter(requestsPerSecond: options.rateLimit)
    }

    /// Certificate verification on, plus the private CA of `--ca-file`; off only with `--insecure-skip-tls-verify`.
    private static func tlsConfiguration(options: SourceOptions) throws -> TLSConfiguration {
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

    /// A client of the console for one source; every client of the session shares its limiter and counters.
    func client(token: APIToken, options: SourceOptions, logger: Logger) -> SentinelOneClient {
        var configuration = SentinelOneClient.Configuration(consoleURL: console, token: token)
        configuration.requestTimeout = .seconds(Int64(options.requestTimeout))
        configuration.maximumAttempts = options.maxRetries + 1
        configuration.maximumTotalRetryWait = .seconds(Int64(options.maxRetryWait))
        configuration.maximumResponseBytes = options.maxResponseBytes
        return SentinelOneClient(
            configuration: configuration,
            httpClient: httpClient,
            rateLimiter: rateLimiter,
            statistics: statistics,
            logger: logger
        )
    }

    func shutdown() async {
        try? await httpClient.shutdown()
    }
}
