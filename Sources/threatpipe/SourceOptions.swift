import ArgumentParser
import Foundation
import Runtime
import SentinelOne

/// The options that say which console to read, how, and which threats: shared by `export` and `run`.
struct SourceOptions: ParsableArguments {
    @Option(help: "Console base URL, e.g. https://usea1.sentinelone.net (default: $S1_CONSOLE_URL).")
    var consoleURL: String?

    @Option(help: "Read the API token from this file (default: $S1_API_TOKEN).")
    var apiTokenFile: String?

    @Option(name: .customLong("filter"), help: "A GET /threats filter as name=value; repeatable (lists comma-separated).")
    var filters: [String] = []

    @Option(name: .customLong("event-filter"), help: "An explore/events filter as name=value; repeatable.")
    var eventFilters: [String] = []

    @Option(help: "Threats per list page, 1…1000.")
    var pageSize = 1000

    @Option(help: "Events per explore/events page, 1…1000.")
    var eventsPageSize = 1000

    @Option(help: "Threats enriched at once.")
    var concurrency = 8

    @Option(help: "At most this many events per threat (the record says when it was truncated). Default: all.")
    var maxEvents: Int?

    @Option(help: "Seconds allowed for one API request.")
    var requestTimeout = 60

    @Option(help: "Seconds allowed to open a connection to the console.")
    var connectTimeout = 5

    @Option(help: "Retries of a request that failed transiently (429, 5xx, timeouts, broken or malformed answers).")
    var maxRetries = 10

    @Option(help: "Most seconds one request may spend waiting between its retries; then it fails (so an unreachable console fails an export in about this time).")
    var maxRetryWait = 20

    @Option(help: "Largest answer accepted, in bytes; a larger one is an error for that request.")
    var maxResponseBytes = 64 * 1024 * 1024

    @Option(help: "Requests per second to the console, shared by all requests (a token bucket); 0 turns it off. Or auto[:MAX]: the rate follows the console's answers — it grows while they are 2xx and is cut on a 429 or 503, Retry-After honoured — never above MAX (default 50).", transform: RateLimit.parser(or: Usage.rateLimit))
    var rateLimit = RateLimit.fixed(10)

    @Option(help: "Also trust the CA certificates in this PEM file (a console behind a private CA).")
    var caFile: String?

    @Flag(name: .customLong("insecure-skip-tls-verify"), help: "Do not verify the console's TLS certificate. Unsafe: anyone on the path can read the token.")
    var insecureSkipTLSVerify = false

    func validate() throws {
        try TimeOptionParsing.check(concurrency, in: 1...256, "concurrency")
        try TimeOptionParsing.check(pageSize, in: 1...1000, "page-size")
        try TimeOptionParsing.check(eventsPageSize, in: 1...1000, "events-page-size")
        if let maxEvents { try TimeOptionParsing.check(maxEvents, in: 0...10_000_000, "max-events") }
        try TimeOptionParsing.check(requestTimeout, in: 1...3600, "request-timeout", unit: "seconds")
        try TimeOptionParsing.check(connectTimeout, in: 1...600, "connect-timeout", unit: "seconds")
        try TimeOptionParsing.check(maxRetries, in: 0...20, "max-retries")
        try TimeOptionParsing.check(maxResponseBytes, in: 1024...(1 << 32), "max-response-bytes")
        try TimeOptionParsing.check(maxRetryWait, in: 0...86_400, "max-retry-wait", unit: "seconds")
    }

    /// The console, checked.
    func console(default defaultConsole: String? = nil) throws -> ConsoleURL {
        guard let text = consoleURL ?? ProcessInfo.processInfo.environment["S1_CONSOLE_URL"] ?? defaultConsole else {
            throw ConfigurationError(description: "no console URL: pass --console-url or set S1_CONSOLE_URL")
        }
        return try ConsoleURL(text)
    }

    static func split(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
    }

    /// The options as the runtime's plain configuration: console, filters checked against the catalogue.
    /// `defaultConsole` stands in when neither the option nor S1_CONSOLE_URL gives one (a group whose shards each
    /// name their console).
    func configuration(defaultConsole: String? = nil) throws -> ConsoleConfiguration {
        var configuration = ConsoleConfiguration(console: try console(default: defaultConsole))
        configuration.apiTokenFile = apiTokenFile
        // Repeated filters arrive joined by newlines (ConfigurationLayers.coalescing).
        configuration.filters = try QueryFilter.parse(Self.split(filters), catalog: .threats)
        configuration.eventFilters = try QueryFilter.parse(Self.split(eventFilters), catalog: .exploreEvents)
        configuration.pageSize = pageSize
        configuration.eventsPageSize = eventsPageSize
        configuration.concurrency = concurrency
        configuration.maximumEvents = maxEvents
        configuration.requestTimeout = .seconds(requestTimeout)
        configuration.connectTimeout = .seconds(connectTimeout)
        configuration.maximumRetries = maxRetries
        configuration.maximumRetryWait = .seconds(maxRetryWait)
        configuration.maximumResponseBytes = maxResponseBytes
        switch rateLimit {
        case .off: configuration.rateLimit = 0
        case .fixed(let rate): configuration.rateLimit = rate
        case .auto(let maximum): configuration.adaptiveRateLimit = maximum
        }
        configuration.caFile = caFile
        configuration.insecureSkipTLSVerify = insecureSkipTLSVerify
        configuration.environment = ProcessInfo.processInfo.environment
        return configuration
    }
}
