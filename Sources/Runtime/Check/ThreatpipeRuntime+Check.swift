import Blocking
import Foundation
import Kafka
import Logging
import Pipeline
import SentinelOne

extension ThreatpipeRuntime {
    /// `threatpipe check`: tries each dependency the configuration names — the console, the token and the filters;
    /// the Kafka brokers and topic; the checkpoint store (and a group's shards); the output file — and says what
    /// it found, one line a check. Nothing is written anywhere (a probe transactional id of its own, an output file
    /// removed again if it did not exist).
    public static func check(_ check: CheckConfiguration, logger: Logger) async -> CheckReport {
        var lines: [CheckLine] = [CheckLine(name: "configuration", detail: "valid")]
        do {
            lines += try await checkConsole(check, logger: logger)
        } catch {
            lines.append(CheckLine(name: "configuration", failure: error, detail: "\(error)"))
        }
        lines += await checkKafka(check)
        lines += await checkCheckpointStore(check)
        lines += await checkFileStore(check)
        lines += checkOutput(check)
        return CheckReport(lines: lines)
    }

    /// Console reachable, token accepted, and how many threats the filters match (one request).
    static func checkConsole(_ check: CheckConfiguration, logger: Logger) async throws -> [CheckLine] {
        var configuration = try check.console.get()
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
                CheckLine(name: "console reachable", detail: console.base),
                CheckLine(name: "token accepted", detail: "GET /threats answered"),
                CheckLine(name: "filters", detail: "match \(count.map(String.init) ?? "an unknown number of") threats"),
            ]
        } catch {
            let rejected = error.code == .unauthorized || error.code == .forbidden
            return [
                CheckLine(name: "console reachable", failure: rejected ? nil : error, detail: rejected ? console.base : "\(error)"),
                CheckLine(name: "token accepted", failure: rejected ? error : nil, detail: rejected ? "\(error)" : "not tried", skipped: !rejected),
                CheckLine(name: "filters", detail: "not tried", skipped: true),
            ]
        }
    }

    /// Each bootstrap broker answers a metadata request, and the topic exists.
    static func checkKafka(_ check: CheckConfiguration) async -> [CheckLine] {
        guard let (brokers, topic, properties) = check.kafka else { return [] }
        var lines: [CheckLine] = []
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
                lines.append(CheckLine(name: "kafka broker \(broker)", detail: "reachable; cluster brokers \(metadata.brokers.joined(separator: ","))"))
            case .failure(let error):
                lines.append(CheckLine(name: "kafka broker \(broker)", failure: error, detail: "\(error)"))
            }
        }
        guard let reachable else {
            return lines + [CheckLine(name: "kafka topic \(topic)", detail: "no broker reachable", skipped: true)]
        }
        let result = await performBlockingCall {
            Result { () throws(KafkaError) in
                try KafkaClusterProbe.metadata(topic: topic, properties: properties + [("bootstrap.servers", reachable)], timeout: .seconds(5))
            }
        }
        switch result {
        case .success(let metadata) where metadata.partitions != nil:
            lines.append(CheckLine(name: "kafka topic \(topic)", detail: "present, \(metadata.partitions!) partitions"))
        case .success:
            lines.append(CheckLine(name: "kafka topic \(topic)", failure: KafkaError(code: .unknownTopicOrPartition, name: "UNKNOWN_TOPIC_OR_PART", message: "topic \(topic) does not exist"), detail: "does not exist"))
        case .failure(let error):
            lines.append(CheckLine(name: "kafka topic \(topic)", failure: error, detail: "\(error)"))
        }
        return lines
    }

    /// The NDJSON file can be opened for appending (created, and removed again, if it did not exist).
    static func checkOutput(_ check: CheckConfiguration) -> [CheckLine] {
        guard let output = check.output else { return [] }
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
            return [CheckLine(name: "output \(output)", detail: "writable")]
        } catch {
            return [CheckLine(name: "output \(output)", failure: error, detail: "not writable: \(error)")]
        }
    }
}

/// An output path `check` could not open for appending.
public struct OutputNotWritable: ClassifiedError, CustomStringConvertible {
    public var kind: FailureKind { .sink }
    public var description: String
}
