import Logging
import Pipeline
import SentinelOne

/// Which console to read, how, and which threats: the plain settings `export`, `run` and `check` share, already
/// checked (a command line, a test or any other front end builds it).
public struct ConsoleConfiguration: Sendable {
    /// The console's base URL.
    public var console: ConsoleURL
    /// Where the API token is read from: this file, or else `S1_API_TOKEN` in ``environment``.
    public var apiTokenFile: String?
    /// The user's `GET /threats` filters (threatpipe adds its own, such as `updatedAt__gte`, in `run`).
    public var filters: [QueryFilter] = []
    /// The user's explore-events filters.
    public var eventFilters: [QueryFilter] = []
    /// Threats per list page, 1…1000.
    public var pageSize = 1000
    /// Events per explore-events page, 1…1000.
    public var eventsPageSize = 1000
    /// Threats enriched at once.
    public var concurrency = 8
    /// At most this many events per threat; nil: all.
    public var maximumEvents: Int?
    /// Time allowed for one API request.
    public var requestTimeout: Duration = .seconds(60)
    /// Time allowed to open a connection.
    public var connectTimeout: Duration = .seconds(5)
    /// Retries of a request that failed transiently.
    public var maximumRetries = 10
    /// The longest total wait between one request's retries.
    public var maximumRetryWait: Duration = .seconds(20)
    /// The largest answer accepted, in bytes.
    public var maximumResponseBytes = 64 * 1024 * 1024
    /// Requests per second, shared by every request to the console; 0: no limit.
    public var rateLimit: Double = 10
    /// `--rate-limit auto:MAX`: the rate follows the console's answers (additive growth while 2xx, cut on 429/503,
    /// `Retry-After` honoured), never above this; nil: the fixed ``rateLimit``.
    public var adaptiveRateLimit: Double?
    /// A PEM file of extra CA certificates to trust.
    public var caFile: String?
    /// Do not verify the console's certificate (warned about at every start).
    public var insecureSkipTLSVerify = false
    /// The process environment: the token variable and the proxy variables are read from it.
    public var environment: [String: String] = [:]

    public init(console: ConsoleURL) {
        self.console = console
    }

    /// The API token, from the file or the environment; never from a flag.
    public func token() throws -> APIToken {
        try TokenSource.load(file: apiTokenFile, environment: environment)
    }

    /// The console as a threat source listing with `filters` (the user's plus any threatpipe adds).
    /// `stop` ends its requests' waits (see ``ConsoleSession/client(token:stop:logger:)``).
    public func makeSource(
        filters: [QueryFilter], session: ConsoleSession, stop: StopSignal? = nil, logger: Logger
    ) throws -> SentinelOneThreatSource {
        SentinelOneThreatSource(
            client: session.client(token: try token(), stop: stop, logger: logger),
            threatQuery: try ThreatListQuery(filters: filters, pageSize: pageSize),
            eventsQuery: try ExploreEventsQuery(filters: eventFilters, pageSize: eventsPageSize, maximumEvents: maximumEvents)
        )
    }
}
