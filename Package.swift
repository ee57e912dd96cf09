// swift-tools-version: 6.2
// threatpipe: streams SentinelOne threats, enriched with their analysis and explore events, into sinks.
// Linux only: it calls glibc directly and links Debian's librdkafka (no platform claim it does not keep).
import PackageDescription

let package = Package(
    name: "threatpipe",
    products: [
        .executable(name: "threatpipe", targets: ["threatpipe"])
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: ["YAML"]),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The threats' state beside the state file: SQLite, vendored by sqlite-nio (one known SQLite on every machine).
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
    ],
    targets: [
        // Every Duration → number conversion (seconds, saturating micro/milli/nanoseconds), in one place.
        .target(name: "Durations"),
        // JSON without loss: validation, span location, splicing, a literal-preserving value type.
        .target(name: "RawJSON"),
        // The core: records, bounded channels, stages, acknowledgement tracking. Knows no HTTP, no files.
        .target(
            name: "Pipeline",
            dependencies: [.product(name: "CoreMetrics", package: "swift-metrics"), 
                "RawJSON", "CCrypto",
                "Durations",
                .product(name: "DequeModule", package: "swift-collections"),
                // A pthread-based lock that ThreadSanitizer sees (it does not see Synchronization.Mutex on Linux).
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The source: the SentinelOne management API client (threats, analysis, explore events).
        .target(
            name: "SentinelOne",
            dependencies: [.product(name: "CoreMetrics", package: "swift-metrics"), 
                "RawJSON", .product(name: "DequeModule", package: "swift-collections"),
                "Pipeline",
                "Durations",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The transform: enriched threat → bytes of one record in an output format.
        .target(name: "Formats", dependencies: ["RawJSON", "Pipeline"]),
        // zlib (Debian's zlib1g-dev), as C: `audit` reads rotated `.gz` NDJSON files.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // `audit`: the console's current versions against what reached the sinks — missing, stale, incomplete, deleted.
        .target(name: "Audit", dependencies: ["RawJSON", "Pipeline", "SentinelOne", "Durations", "CZlib"]),
        // The YAML configuration file (`--config`): option values and the `shards:` list, typed and checked.
        .target(name: "ConfigurationFile", dependencies: ["Pipeline", "SentinelOne", .product(name: "Yams", package: "Yams")]),
        // The one way off Swift's cooperative pool for calls that block (fsync, librdkafka flushes, probes).
        .target(name: "Blocking", dependencies: [.product(name: "NIOPosix", package: "swift-nio")]),
        // librdkafka (Debian's librdkafka-dev), as C.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // The only module that touches librdkafka: producer, configuration, errors, delivery reports, mock cluster.
        .target(name: "Kafka", dependencies: ["CRdKafka", "Blocking", "Durations", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]),
        // The sinks: stdout, NDJSON files, Kafka.
        .target(
            name: "Sinks",
            dependencies: [.product(name: "CoreMetrics", package: "swift-metrics"), "RawJSON", 
                "Pipeline",
                "Kafka",
                "Blocking",
                "Durations",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // A SentinelOne API emulator over a real HTTP server, for the demo, the tests and the benchmarks.
        .target(
            name: "Emulator",
            dependencies: [.product(name: "NIOCore", package: "swift-nio"), 
                "RawJSON",
                "Durations",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // Operating threatpipe: Prometheus metrics, health and readiness over HTTP.
        .target(
            name: "Observability",
            dependencies: [
                "Pipeline",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The state of a continuous export: the checkpoint file (written atomically) or a compacted Kafka topic.
        .target(name: "Persistence", dependencies: ["Pipeline", "RawJSON", "Kafka", "Blocking", "Durations", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"), .product(name: "Metrics", package: "swift-metrics"), .product(name: "SQLiteNIO", package: "sqlite-nio")]),
        // glibc malloc tuning that keeps peak memory flat over long exports.
        .target(name: "CMallocTuning"),
        // The composition root: plain configuration values → console session, source, encoder, sinks, checkpoint
        // store and service group, for `export` and `run`; what the command line calls and tests call in process.
        .target(
            name: "Runtime",
            dependencies: [.product(name: "Metrics", package: "swift-metrics"), .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTPCompression", package: "swift-nio-extras"), 
                "RawJSON", "Pipeline", "SentinelOne", "Formats", "Sinks", "Kafka", "Persistence", "Observability",
                "CMallocTuning", "Durations", "Blocking", "Audit",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The command line: parses flags, the environment and the configuration file into the runtime's
        // configuration values and calls Runtime's ServiceProcess; plus the emulator and the mock cluster commands. It
        // names no sink, store or server: it fills the runtime's settings (SinksConfiguration, CheckpointTopicSettings),
        // and Runtime builds them.
        .executableTarget(
            name: "threatpipe",
            dependencies: [
                "Runtime",
                // What parsing needs: the values flags parse into (timestamps, filters, console URLs, formats, the
                // fields a change is tracked on, the audit's window) and the configuration file.
                "RawJSON", "SentinelOne", "Formats", "Pipeline", "Audit", "ConfigurationFile",
                // The emulator and mock cluster commands.
                "Emulator", "Kafka", .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `make bench`: the transform benchmark (parse, join, serialize on one core), compared with an orjson baseline.
        .executableTarget(
            name: "TransformBenchmark",
            dependencies: ["Formats", "Pipeline", "RawJSON", "SentinelOne", "Durations", .product(name: "NIOCore", package: "swift-nio")],
            path: "Benchmarks/TransformBenchmark"
        ),
        // `make bench`: the Kafka sink's records/s into librdkafka's mock cluster, compared with a raw C producer.
        .executableTarget(
            name: "KafkaSinkBenchmark",
            dependencies: ["Sinks", "Pipeline", "Durations", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/KafkaSinkBenchmark"
        ),
        // `make fuzz`: libFuzzer targets for everything a console, a flag or a file feeds us (built with
        // -sanitize=fuzzer -DFUZZING); a plain build replays inputs: `threatpipe-fuzz TARGET FILE…`.
        .executableTarget(
            name: "threatpipe-fuzz",
            dependencies: [
                "RawJSON", "Pipeline", "SentinelOne", "Persistence", "Audit", "ConfigurationFile", "CFuzzMain",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Fuzz/ThreatpipeFuzz"
        ),
        .target(name: "CFuzzMain", path: "Fuzz/CFuzzMain"),
        // Helpers shared by the test targets (an in-process emulator on a real port).
        .target(
            name: "TestSupport",
            dependencies: ["Emulator", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "RawJSONTests", dependencies: ["RawJSON"]),
        .testTarget(name: "PipelineTests", dependencies: [
            "Pipeline", "RawJSON", .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        .testTarget(name: "KafkaTests", dependencies: [
            "Kafka", "CThreadsForSanitizers", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        .testTarget(name: "PersistenceTests", dependencies: ["Persistence", "Pipeline", "RawJSON", "Kafka", "CThreadsForSanitizers", .product(name: "SQLiteNIO", package: "sqlite-nio"), .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "SentinelOneTests",
            dependencies: [.product(name: "Logging", package: "swift-log"), .product(name: "NIOHTTP1", package: "swift-nio"), 
                "SentinelOne", "Pipeline", "RawJSON", "Emulator", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "RuntimeTests",
            dependencies: ["Emulator", .product(name: "Logging", package: "swift-log"), "Observability", "Runtime", "Kafka", "Persistence", "Pipeline", "SentinelOne", "Sinks", "RawJSON", "TestSupport", "CThreadsForSanitizers"]
        ),
        .testTarget(name: "FormatsTests", dependencies: ["Formats", "Pipeline", "RawJSON", "Audit"]),
        .testTarget(name: "AuditTests", dependencies: ["Audit", "RawJSON"]),
        // Linked into the tests only: C11 thrd_create through pthread_create, so ThreadSanitizer sees librdkafka's
        // threads (`make sanitize`); the same semantics in every other build.
        .target(name: "CThreadsForSanitizers", path: "Tests/CThreadsForSanitizers"),
        .testTarget(name: "SinksTests", dependencies: [
            "Sinks", "Pipeline", "Kafka", "RawJSON", "CThreadsForSanitizers", .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"), "Persistence", "Pipeline", 
                "Emulator", "RawJSON", "TestSupport", "Kafka", "ConfigurationFile",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
    ]
)

// A member is visible only where its module is imported (SE-0444): a file names every module it uses, so moving a
// type or an extension cannot silently change what another file sees.
let cTargets: Set<String> = ["CMallocTuning", "CFuzzMain", "CThreadsForSanitizers"]
for target in package.targets where target.type != .system && !cTargets.contains(target.name) {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("MemberImportVisibility")]
}
