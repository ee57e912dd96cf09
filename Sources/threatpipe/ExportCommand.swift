import ArgumentParser
import AsyncHTTPClient
import Foundation
import Formats
import Logging
import NIOCore
import Pipeline
import SentinelOne
import Sinks

/// `threatpipe export`: one pass over the console's threats, then exit.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export every threat matching the filters, enriched, then exit.",
        discussion: """
            The API token is read from the environment variable S1_API_TOKEN or from --api-token-file; it is never \
            taken from the command line and never logged.

            \(ExitStatus.documentation)
            """
    )

    enum SinkKind: String, ExpressibleByArgument, CaseIterable {
        case stdout, ndjson, kafka
    }

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

    @Option(name: .customLong("sink"), help: "Where records go: stdout, ndjson or kafka; repeatable. Default: stdout, or ndjson when --output is given.")
    var sinks: [SinkKind] = []

    @Option(help: "The NDJSON file (appended to; parent directories are created).")
    var output: String?

    @Option(help: "Kafka bootstrap brokers, HOST:PORT[,HOST:PORT…] (for --sink kafka).")
    var kafkaBrokers: String?

    @Option(help: "The Kafka topic (for --sink kafka).")
    var kafkaTopic: String?

    @Option(name: .customLong("kafka-property"), help: "A librdkafka property as key=value, passed as is (SASL, TLS, compression…); repeatable; overrides threatpipe's defaults.")
    var kafkaProperties: [String] = []

    @Option(help: "Seconds the Kafka sink may wait for outstanding deliveries when it closes.")
    var kafkaFlushTimeout = 30

    @Option(help: "Seconds allowed for one API request.")
    var requestTimeout = 60

    @Option(help: "Seconds allowed to open a connection to the console.")
    var connectTimeout = 5

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .notice

    func validate() throws {
        guard concurrency >= 1, concurrency <= 256 else { throw ValidationError("--concurrency is 1…256") }
        guard (1...1000).contains(pageSize) else { throw ValidationError("--page-size is 1…1000") }
        guard (1...1000).contains(eventsPageSize) else { throw ValidationError("--events-page-size is 1…1000") }
        if let maxEvents, maxEvents < 0 { throw ValidationError("--max-events is 0 or more") }
        guard requestTimeout >= 1 else { throw ValidationError("--request-timeout is at least 1 second") }
        guard connectTimeout >= 1 else { throw ValidationError("--connect-timeout is at least 1 second") }
        if resolvedSinks.contains(.ndjson), output == nil { throw ValidationError("--sink ndjson needs --output PATH") }
        if output != nil, !resolvedSinks.contains(.ndjson) {
            throw ValidationError("--output is for the ndjson sink; add --sink ndjson")
        }
        if Set(resolvedSinks).count != resolvedSinks.count { throw ValidationError("a --sink is given twice") }
        if resolvedSinks.contains(.kafka) {
            guard kafkaBrokers?.isEmpty == false else { throw ValidationError("--sink kafka needs --kafka-brokers HOST:PORT") }
            guard kafkaTopic?.isEmpty == false else { throw ValidationError("--sink kafka needs --kafka-topic NAME") }
        }
        for property in kafkaProperties where !property.contains("=") || property.hasPrefix("=") {
            throw ValidationError("--kafka-property takes key=value, got '\(property)'")
        }
        guard kafkaFlushTimeout >= 1 else { throw ValidationError("--kafka-flush-timeout is at least 1 second") }
    }

    var resolvedSinks: [SinkKind] {
        if !sinks.isEmpty { return sinks }
        return output == nil ? [.stdout] : [.ndjson]
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        MemoryTuning.apply()
        let logger = LogSetup.logger(label: "threatpipe.export", level: logLevel)
        do {
            let summary = try await export(logger: logger)
            printError(summary)
        } catch {
            printError("threatpipe: error: \(error)")
            throw ExitStatus.of(error).exitCode
        }
    }

    /// The Kafka sink's settings; records carry their format and schema in headers.
    private var kafkaConfiguration: KafkaSinkConfiguration {
        KafkaSinkConfiguration(
            brokers: kafkaBrokers ?? "",
            topic: kafkaTopic ?? "",
            properties: kafkaProperties.map { property in
                let equals = property.firstIndex(of: "=")!
                return (String(property[..<equals]), String(property[property.index(after: equals)...]))
            },
            headers: [
                ("content-type", "application/json"),
                ("threatpipe-format", "raw"),
                ("threatpipe-schema", RawRecordEncoder.schemaID),
            ],
            flushTimeout: .seconds(kafkaFlushTimeout)
        )
    }

    private func export(logger: Logger) async throws -> String {
        let environment = ProcessInfo.processInfo.environment
        guard let urlText = consoleURL ?? environment["S1_CONSOLE_URL"] else {
            throw ConfigurationError(description: "no console URL: pass --console-url or set S1_CONSOLE_URL")
        }
        let console = try ConsoleURL(urlText)
        let token = try TokenSource.load(file: apiTokenFile, environment: environment)
        let threatQuery = try ThreatListQuery(
            filters: QueryFilter.parse(filters, catalog: .threats),
            pageSize: pageSize
        )
        let eventsQuery = try ExploreEventsQuery(
            filters: QueryFilter.parse(eventFilters, catalog: .explorEvents),
            pageSize: eventsPageSize,
            maximumEvents: maxEvents
        )
        let sinkList: [any RecordSink] = resolvedSinks.map { kind in
            switch kind {
            case .stdout: return StdoutSink()
            case .ndjson: return NDJSONFileSink(path: output!)
            case .kafka: return KafkaSink(configuration: kafkaConfiguration, logger: logger)
            }
        }

        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.timeout = .init(
            connect: .seconds(Int64(connectTimeout)),
            read: .seconds(Int64(requestTimeout))
        )
        httpConfiguration.decompression = .enabled(limit: .ratio(50))
        httpConfiguration.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency * 2 + 2
        )
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        var clientConfiguration = SentinelOneClient.Configuration(consoleURL: console, token: token)
        clientConfiguration.requestTimeout = .seconds(Int64(requestTimeout))
        let client = SentinelOneClient(configuration: clientConfiguration, httpClient: httpClient, logger: logger)
        let source = SentinelOneThreatSource(client: client, threatQuery: threatQuery, eventsQuery: eventsQuery)
        let pipeline = ExportPipeline(
            source: source,
            encoder: RawRecordEncoder(consoleURL: console.base),
            sinks: sinkList,
            configuration: .init(concurrency: concurrency)
        )

        logger.info("export starting", metadata: ["console": "\(console)", "sinks": "\(sinkList.map(\.name))"])
        let started = ContinuousClock.now
        let result: Result<ExportSummary, any Error>
        do {
            result = .success(try await pipeline.run())
        } catch {
            result = .failure(error)
        }
        try? await httpClient.shutdown()
        let summary = try result.get()
        let elapsed = ContinuousClock.now - started
        return ExportReport(summary: summary, sinks: sinkList.map(\.name), elapsed: elapsed).line
    }
}
