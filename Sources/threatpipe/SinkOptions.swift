import ArgumentParser
import Foundation
import Formats
import Runtime

/// The options that say where records go: shared by `export` and `run`.
struct SinkOptions: ParsableArguments {
    enum SinkKind: String, ExpressibleByArgument, CaseIterable {
        case stdout, ndjson, kafka
    }

    @Option(name: .customLong("sink"), help: "Where records go: stdout, ndjson or kafka; repeatable. Default: stdout, or ndjson when --output is given.")
    var sinks: [SinkKind] = []

    @Option(help: "The NDJSON file (appended to; parent directories are created).")
    var output: String?

    @Option(help: "Start a new NDJSON file once the current one holds this much: bytes, or with K, M or G (e.g. 512M).")
    var rotateSize: String?

    @Option(help: "Start a new NDJSON file once the current one is this old: a duration such as 1h or 15m.", transform: DurationArgument.parser(or: Usage.rotateInterval))
    var rotateInterval: DurationArgument?

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

    @Option(name: .customLong("kafka-property-file"), help: "A secret librdkafka property as key=PATH: its value is read from the file (ssl.key.password…); repeatable; never logged.")
    var kafkaPropertyFiles: [String] = []

    @Option(help: "Append records a sink rejects for good (too large, invalid, unknown topic) to this NDJSON file — threat id, updatedAt, sink, error and the record — and go on; without it such a record stops the export or run (exit 74).")
    var deadLetter: String?

    @Option(help: "Seconds the Kafka sink may wait for outstanding deliveries when it closes.")
    var kafkaFlushTimeout = 30

    func validate() throws {
        if resolvedSinks.contains(.ndjson), output == nil { throw ValidationError("--sink ndjson needs --output PATH") }
        if output != nil, !resolvedSinks.contains(.ndjson) {
            throw ValidationError("--output is for the ndjson sink; add --sink ndjson")
        }
        if let rotateSize, Self.byteCount(rotateSize) == nil {
            throw ValidationError("--rotate-size takes bytes, or a number with K, M or G (e.g. 512M), 1…1024G")
        }
        if let rotateInterval, rotateInterval.duration < .seconds(1) {
            throw ValidationError(Usage.rotateInterval)
        }
        if let retain { try TimeOptionParsing.check(retain, in: 1...1_000_000, "retain") }
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
        for property in kafkaProperties {
            let key = String(property.prefix { $0 != "=" })
            guard !Self.isSecret(key) else {
                // The value is not echoed: it is the secret.
                let pointer = key == "sasl.password" ? "--kafka-sasl-password-file PATH" : "--kafka-property-file \(key)=PATH"
                throw ValidationError("--kafka-property \(key) is a secret and is not taken as a value (flags, THREATPIPE_KAFKA_PROPERTY and the configuration file are all readable by others); use \(pointer)")
            }
        }
        for entry in kafkaPropertyFiles {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw ValidationError("--kafka-property-file takes key=PATH, got '\(entry)'")
            }
            let file = String(entry[entry.index(after: equals)...])
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw ValidationError("cannot read the file of --kafka-property-file \(entry[..<equals]): \(file)")
            }
        }
        if let kafkaSaslPasswordFile, !FileManager.default.isReadableFile(atPath: kafkaSaslPasswordFile) {
            throw ValidationError("cannot read the SASL password file \(kafkaSaslPasswordFile)")
        }
        try TimeOptionParsing.check(kafkaFlushTimeout, in: 1...86_400, "kafka-flush-timeout", unit: "seconds")
    }

    var resolvedSinks: [SinkKind] {
        if !sinks.isEmpty { return sinks }
        return output == nil ? [.stdout] : [.ndjson]
    }

    /// A librdkafka property whose value is a secret: never taken from a flag, a variable or the file.
    static func isSecret(_ key: String) -> Bool {
        let key = key.lowercased()
        return key.hasSuffix("password") || key.contains("secret")
    }

    /// The options as the runtime's plain configuration, records in `format`.
    func configuration(format: OutputFormat) -> SinksConfiguration {
        SinksConfiguration(
            sinks: resolvedSinks.map { kind in
                switch kind {
                case .stdout: .stdout
                case .ndjson: .ndjson(path: output!, rotation: rotation)
                case .kafka: .kafka(kafkaConfiguration(format: format))
                }
            },
            format: format,
            deadLetterPath: deadLetter
        )
    }

    /// How the NDJSON file rotates.
    var rotation: FileRotationSettings {
        FileRotationSettings(
            maximumBytes: rotateSize.flatMap(Self.byteCount),
            maximumAge: rotateInterval?.duration,
            compress: rotateGzip,
            retain: retain
        )
    }

    /// `512M` → 536870912; plain digits are bytes; nil outside 1 byte…1024G.
    static func byteCount(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        var digits = Substring(text)
        var unit = 1
        if let last = text.uppercased().last, let multiplier = units[last] {
            unit = multiplier
            digits = digits.dropLast()
        }
        guard let value = Int(digits), value > 0 else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: unit)
        return !overflow && bytes <= 1 << 40 ? bytes : nil
    }

    /// The user's librdkafka properties, with the SASL password read from its file when one is given.
    var kafkaConfigurationProperties: [(key: String, value: String)] {
        var properties = kafkaProperties.compactMap { property -> (key: String, value: String)? in
            guard let equals = property.firstIndex(of: "=") else { return nil }
            return (String(property[..<equals]), String(property[property.index(after: equals)...]))
        }
        if let kafkaSaslPasswordFile, let password = try? String(contentsOfFile: kafkaSaslPasswordFile, encoding: .utf8) {
            properties.append(("sasl.password", password.trimmingCharacters(in: .newlines)))
        }
        for entry in kafkaPropertyFiles {
            guard let equals = entry.firstIndex(of: "="),
                let value = try? String(contentsOfFile: String(entry[entry.index(after: equals)...]), encoding: .utf8)
            else { continue }
            properties.append((String(entry[..<equals]), value.trimmingCharacters(in: .newlines)))
        }
        return properties
    }

    /// The Kafka sink's settings; records carry their format and schema in headers.
    private func kafkaConfiguration(format: OutputFormat) -> KafkaSinkSettings {
        KafkaSinkSettings(
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

/// `--format`: the records' format, for `export`, `run` and `check` (`audit` has a `--format` of its own: its report's).
struct RecordFormatOptions: ParsableArguments {
    @Option(help: "Record format for every sink: raw (the API's JSON, enriched), ocsf (OCSF 1.5.0 Detection Finding) or ecs (ECS 8.11 alert).")
    var format: OutputFormat = .raw
}
