import ArgumentParser
import Foundation
import Formats
import Logging
import Pipeline
import Sinks

/// The options that say where records go: shared by `export` and `run`.
struct SinkOptions: ParsableArguments {
    enum SinkKind: String, ExpressibleByArgument, CaseIterable {
        case stdout, ndjson, kafka
    }

    @Option(name: .customLong("sink"), help: "Where records go: stdout, ndjson or kafka; repeatable. Default: stdout, or ndjson when --output is given.")
    var sinks: [SinkKind] = []

    @Option(help: "Record format for every sink: raw (the API's JSON, enriched), ocsf (OCSF 1.5.0 Detection Finding) or ecs (ECS 8.11 alert).")
    var format: OutputFormat = .raw

    @Option(help: "The NDJSON file (appended to; parent directories are created).")
    var output: String?

    @Option(help: "Start a new NDJSON file once the current one holds this much: bytes, or with K, M or G (e.g. 512M).")
    var rotateSize: String?

    @Option(help: "Start a new NDJSON file once the current one is this old: a duration such as 1h or 15m.")
    var rotateInterval: String?

    @Flag(help: "gzip NDJSON files once they are rotated out.")
    var rotateGzip = false

    @Option(help: "Keep this many rotated NDJSON files, deleting older ones (default: all).")
    var retain: Int?

    @Option(help: "Kafka bootstrap brokers, HOST:PORT[,HOST:PORT…] (for --sink kafka).")
    var kafkaBrokers: String?

    @Option(help: "The Kafka topic (for --sink kafka).")
    var kafkaTopic: String?

    @Option(name: .customLong("kafka-property"), help: "A librdkafka property as key=value, passed as is (SASL, TLS, compression…); repeatable; overrides threatpipe's defaults.")
    var kafkaProperties: [String] = []

    @Option(help: "Read the SASL password (librdkafka's sasl.password) from this file; it is never logged.")
    var kafkaSaslPasswordFile: String?

    @Option(help: "Seconds the Kafka sink may wait for outstanding deliveries when it closes.")
    var kafkaFlushTimeout = 30

    func validate() throws {
        if resolvedSinks.contains(.ndjson), output == nil { throw ValidationError("--sink ndjson needs --output PATH") }
        if output != nil, !resolvedSinks.contains(.ndjson) {
            throw ValidationError("--output is for the ndjson sink; add --sink ndjson")
        }
        if let rotateSize, Self.byteCount(rotateSize) == nil {
            throw ValidationError("--rotate-size takes bytes, or a number with K, M or G (e.g. 512M)")
        }
        if let rotateInterval, TimeOptionParsing.duration(rotateInterval) == nil {
            throw ValidationError("--rotate-interval takes a duration such as 1h or 15m")
        }
        if let retain, retain < 1 { throw ValidationError("--retain is at least 1") }
        if (rotateSize != nil || rotateInterval != nil || rotateGzip || retain != nil), !resolvedSinks.contains(.ndjson) {
            throw ValidationError("--rotate-size, --rotate-interval, --rotate-gzip and --retain are for the ndjson sink")
        }
        if Set(resolvedSinks).count != resolvedSinks.count { throw ValidationError("a --sink is given twice") }
        if resolvedSinks.contains(.kafka) {
            guard kafkaBrokers?.isEmpty == false else { throw ValidationError("--sink kafka needs --kafka-brokers HOST:PORT") }
            guard kafkaTopic?.isEmpty == false else { throw ValidationError("--sink kafka needs --kafka-topic NAME") }
        }
        for property in kafkaProperties where !property.contains("=") || property.hasPrefix("=") {
            throw ValidationError("--kafka-property takes key=value, got '\(property)'")
        }
        if let kafkaSaslPasswordFile, !FileManager.default.isReadableFile(atPath: kafkaSaslPasswordFile) {
            throw ValidationError("cannot read the SASL password file \(kafkaSaslPasswordFile)")
        }
        guard kafkaFlushTimeout >= 1 else { throw ValidationError("--kafka-flush-timeout is at least 1 second") }
    }

    var resolvedSinks: [SinkKind] {
        if !sinks.isEmpty { return sinks }
        return output == nil ? [.stdout] : [.ndjson]
    }

    /// Fresh sinks, in the order given.
    func makeSinks(logger: Logger) -> [any RecordSink] {
        resolvedSinks.map { kind in
            switch kind {
            case .stdout: return StdoutSink()
            case .ndjson: return NDJSONFileSink(path: output!, rotation: rotation)
            case .kafka: return KafkaSink(configuration: kafkaConfiguration, logger: logger)
            }
        }
    }

    /// How the NDJSON file rotates.
    var rotation: NDJSONRotation {
        NDJSONRotation(
            maximumBytes: rotateSize.flatMap(Self.byteCount),
            maximumAge: rotateInterval.flatMap(TimeOptionParsing.duration),
            compress: rotateGzip,
            retain: retain
        )
    }

    /// `512M` → 536870912; plain digits are bytes.
    static func byteCount(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        if let last = text.uppercased().last, let unit = units[last] {
            return Int(text.dropLast()).flatMap { $0 > 0 ? $0 * unit : nil }
        }
        return Int(text).flatMap { $0 > 0 ? $0 : nil }
    }

    /// The user's librdkafka properties, with the SASL password read from its file when one is given.
    var kafkaConfigurationProperties: [(key: String, value: String)] {
        var properties = kafkaProperties.map { property -> (key: String, value: String) in
            let equals = property.firstIndex(of: "=")!
            return (String(property[..<equals]), String(property[property.index(after: equals)...]))
        }
        if let kafkaSaslPasswordFile, let password = try? String(contentsOfFile: kafkaSaslPasswordFile, encoding: .utf8) {
            properties.append(("sasl.password", password.trimmingCharacters(in: .newlines)))
        }
        return properties
    }

    /// The Kafka sink's settings; records carry their format and schema in headers.
    private var kafkaConfiguration: KafkaSinkConfiguration {
        KafkaSinkConfiguration(
            brokers: kafkaBrokers ?? "",
            topic: kafkaTopic ?? "",
            properties: kafkaConfigurationProperties,
            headers: [
                ("content-type", "application/json"),
                ("threatpipe-format", format.rawValue),
                ("threatpipe-schema", format.schemaID),
            ] + (format.standardVersion.map { [("threatpipe-standard", $0)] } ?? []),
            flushTimeout: .seconds(kafkaFlushTimeout)
        )
    }
}

extension OutputFormat: ExpressibleByArgument {}
