import Pipeline
import Blocking
import ArgumentParser
import Foundation
import Kafka
import Logging
import Runtime
import SentinelOne

/// `threatpipe check`: validates the configuration, then tries each dependency and prints one line per check.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration and test the console, the token, the filters, Kafka and the output paths.",
        discussion: """
            Prints one line per check (ok, FAIL or skip) and exits 0 when every check passed, otherwise with the exit \
            status of the first failure (69 unreachable, 77 token rejected, 74 output or Kafka, 64 configuration).
            """
    )

    @OptionGroup var source: SourceOptions
    @OptionGroup var sinks: SinkOptions
    @OptionGroup var record: RecordFormatOptions
    @OptionGroup var operations: OperationsOptions
    @OptionGroup var checkpoints: CheckpointOptions

    func validate() throws {
        try checkpoints.validate(with: sinks)
    }

    /// One check's outcome.
    struct Line {
        var name: String
        var failure: (any Error)?
        var detail: String
        var skipped = false

        var text: String {
            if skipped { return "skip  \(name): \(detail)" }
            return failure == nil ? "ok    \(name): \(detail)" : "FAIL  \(name): \(detail)"
        }
    }

    func run() async throws {
        let logger = LogSetup.logger(label: "threatpipe.check", level: operations.logLevel, format: operations.logFormat)
        var lines: [Line] = [Line(name: "configuration", detail: "valid")]
        do {
            lines += try await checkConsole(logger: logger)
        } catch {
            lines.append(Line(name: "configuration", failure: error, detail: "\(error)"))
        }
        lines += await checkKafka()
        lines += await checkCheckpointStore()
        lines += checkOutput()
        for line in lines { printOutput(line.text) }
        if let failure = lines.first(where: { $0.failure != nil })?.failure {
            let status = ExitStatus.of(failure)
            throw ExitCode((status == .internalError ? ExitStatus.unavailable : status).rawValue)
        }
    }

    /// Console reachable, token accepted, and how many threats the filters match (one request).
    private func checkConsole(logger: Logger) async throws -> [Line] {
        // A group whose shards each name their console: the first shard's console is checked.
        var configuration = try (try? groupConfiguration())?.shards.first?.console ?? source.configuration()
        let console = configuration.console
        configuration.maximumRetries = 1
        configuration.maximumRetryWait = .seconds(2)
        let token = try configuration.token()
        let session = try ConsoleSession(configuration: configuration, logger: logger)
        defer { Task { await session.shutdown() } }
        let client = session.client(token: token, logger: logger)
        let query = try ThreatListQuery(filters: configuration.filters)
        do {
            let count = try await client.countThreats(query)
            return [
                Line(name: "console reachable", detail: console.base),
                Line(name: "token accepted", detail: "GET /threats answered"),
                Line(name: "filters", detail: "match \(count.map(String.init) ?? "an unknown number of") threats"),
            ]
        } catch {
            let rejected = error.code == .unauthorized || error.code == .forbidden
            return [
                Line(name: "console reachable", failure: rejected ? nil : error, detail: rejected ? console.base : "\(error)"),
                Line(name: "token accepted", failure: rejected ? error : nil, detail: rejected ? "\(error)" : "not tried", skipped: !rejected),
                Line(name: "filters", detail: "not tried", skipped: true),
            ]
        }
    }

    /// Each bootstrap broker answers a metadata request, and the topic exists.
    private func checkKafka() async -> [Line] {
        guard sinks.resolvedSinks.contains(.kafka), let brokers = sinks.kafkaBrokers, let topic = sinks.kafkaTopic else { return [] }
        let properties = sinks.kafkaConfigurationProperties
        var lines: [Line] = []
        var reachable: String?
        for broker in brokers.split(separator: ",").map(String.init) {
            let result = await performBlockingCall {
                Result { () throws(KafkaError) in
                    try KafkaClusterProbe.metadata(
                        topic: topic, properties: properties + [("bootstrap.servers", broker)], timeout: .seconds(5)
                    )
                }
            }
            switch result {
            case .success(let metadata):
                reachable = reachable ?? broker
                lines.append(Line(name: "kafka broker \(broker)", detail: "reachable; cluster brokers \(metadata.brokers.joined(separator: ","))"))
            case .failure(let error):
                lines.append(Line(name: "kafka broker \(broker)", failure: error, detail: "\(error)"))
            }
        }
        guard let reachable else {
            return lines + [Line(name: "kafka topic \(topic)", detail: "no broker reachable", skipped: true)]
        }
        let result = await performBlockingCall {
            Result { () throws(KafkaError) in
                try KafkaClusterProbe.metadata(topic: topic, properties: properties + [("bootstrap.servers", reachable)], timeout: .seconds(5))
            }
        }
        switch result {
        case .success(let metadata) where metadata.partitions != nil:
            lines.append(Line(name: "kafka topic \(topic)", detail: "present, \(metadata.partitions!) partitions"))
        case .success:
            lines.append(Line(name: "kafka topic \(topic)", failure: KafkaError(code: .unknownTopicOrPartition, name: "UNKNOWN_TOPIC_OR_PART", message: "topic \(topic) does not exist"), detail: "does not exist"))
        case .failure(let error):
            lines.append(Line(name: "kafka topic \(topic)", failure: error, detail: "\(error)"))
        }
        return lines
    }

    /// The NDJSON file can be opened for appending (created, and removed again, if it did not exist).
    private func checkOutput() -> [Line] {
        guard sinks.resolvedSinks.contains(.ndjson), let output = sinks.output else { return [] }
        let existed = FileManager.default.fileExists(atPath: output)
        let directory = (output as NSString).deletingLastPathComponent
        do {
            if !directory.isEmpty {
                do {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                } catch {
                    throw OutputNotWritable(description: "cannot create the directory \(directory)")
                }
            }
            let descriptor = open(output, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw OutputNotWritable(description: String(cString: strerror(errno))) }
            close(descriptor)
            if !existed { try? FileManager.default.removeItem(atPath: output) }
            return [Line(name: "output \(output)", detail: "writable")]
        } catch {
            return [Line(name: "output \(output)", failure: error, detail: "not writable: \(error)")]
        }
    }
}

/// An output path `check` could not open for appending.
struct OutputNotWritable: ClassifiedError, CustomStringConvertible {
    var kind: FailureKind { .sink }
    var description: String
}
