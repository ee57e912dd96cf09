import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Emulator
import Foundation
import Kafka
import RawJSON
import TestSupport
import Testing

extension EndToEnd {
    /// The dashboard and the alerts against the real thing: Debian's Prometheus scrapes two real runs — one at least
    /// once into Kafka with a dead-letter file and `--rate-limit auto`, one process of an exactly-once group — against
    /// a live emulator that answers some requests 429 or 503 and serves records too large for the topic. Every panel
    /// query of `deploy/grafana/threatpipe.json` must return a series, every rule of the alert file must evaluate,
    /// the alerts the faults call for must be pending or firing, and every metric docs/operating.md names must be exported
    /// with its documented labels.
    @Suite(.serialized) struct MonitoringTests {
        static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

        @Test(.timeLimit(.minutes(4))) func everyPanelAndAlertAnswersFromARealPrometheus() async throws {
            let prometheusBinary = "/usr/bin/prometheus"
            guard FileManager.default.isExecutableFile(atPath: prometheusBinary) else {
                Issue.record("Debian's prometheus package is missing (make deps installs it)")
                return
            }
            let emulator = try await RunningEmulator.start(
                threats: 60, addedPerSecond: 2, updatedPerSecond: 4,
                // One draw decides every `rate=` fault of a request: the 503s go by request number instead.
                faults: ["503@every=17", "429-bare@rate=0.15", "large-analysis@every=10"]
            )
            let cluster = try KafkaMockCluster(brokers: 1)
            try cluster.createTopic("threats", partitions: 3, replicationFactor: 1)
            try cluster.createTopic("threats-eo", partitions: 4, replicationFactor: 1)
            try cluster.createTopic("threatpipe.checkpoints", partitions: 6, replicationFactor: 1)
            try cluster.createTopic(StateTopics.state, partitions: 6, replicationFactor: 1)
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let ports = try (0..<3).map { _ in try Self.freePort() }
            let (single, group, web) = (ports[0], ports[1], ports[2])

            // Prometheus first, so that it sees every counter from its first value.
            let configuration = command.path("prometheus.yml")
            try """
                global: {scrape_interval: 1s, evaluation_interval: 1s}
                rule_files: ["\(Self.root.appendingPathComponent("deploy/prometheus/threatpipe-rules.yaml").path)"]
                scrape_configs:
                  - job_name: threatpipe
                    static_configs: [{targets: ["127.0.0.1:\(single)", "127.0.0.1:\(group)"]}]
                """.write(toFile: configuration, atomically: true, encoding: .utf8)
            let prometheus = try ChildProcess.start(
                prometheusBinary,
                ["--config.file=\(configuration)", "--storage.tsdb.path=\(command.path("tsdb"))",
                 "--web.listen-address=127.0.0.1:\(web)", "--log.level=warn"],
                environment: [:], stdoutPath: command.path("prometheus.out"), stderrPath: command.path("prometheus.err")
            )
            defer { prometheus.send(SIGKILL) }

            let environment = ["S1_API_TOKEN": emulator.token]
            let common = ["--console-url", emulator.url, "--interval", "1s", "--since", "2000-01-01T00:00:00Z", "--sink", "kafka",
                          "--kafka-brokers", cluster.bootstrapServers]
            let first = try command.start(
                ["run"] + common + ["--kafka-topic", "threats", "--kafka-property", "message.max.bytes=1900000",
                 "--dead-letter", command.path("dead-letters.ndjson"), "--state", command.path("state.json"),
                 "--rate-limit", "auto:200", "--max-retries", "0", "--metrics-listen", "127.0.0.1:\(single)"],
                environment: environment, log: "single.log"
            )
            defer { first.send(SIGKILL) }
            let second = try command.start(
                ["run"] + common + ["--kafka-topic", "threats-eo", "--config", try GroupTests.shardsFile(command),
                 "--checkpoint-store", "kafka", "--delivery", "exactly-once", "--group", "monitoring",
                 "--transaction-records", "20", "--transaction-interval", "200ms", "--metrics-listen", "127.0.0.1:\(group)"],
                environment: environment, log: "group.log"
            )
            defer { second.send(SIGKILL) }

            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { try? client.shutdown().wait() }
            let api = Prometheus(client: client, base: "http://127.0.0.1:\(web)")
            let panels = try Self.panelQueries()
            let expectedAlerts: Set<String> = ["ThreatpipeDeadLetters", "ThreatpipeConsoleThrottling", "ThreatpipeEnrichmentFailing"]

            // Until every panel has data, the expected alerts are active and every documented metric is there with its
            // labels (or the time limit says what is missing).
            let documented = try Self.documentedMetrics()
            var emptyPanels: [String] = []
            var missingMetrics: [String] = []
            var rules: [Prometheus.Rule] = []
            let deadline = ContinuousClock.now + .seconds(150)
            repeat {
                try await Task.sleep(for: .seconds(2))
                guard (try? await api.isReady()) == true else { continue }
                emptyPanels = []
                for (title, query) in panels where try await api.query(query).isEmpty { emptyPanels.append("\(title): \(query)") }
                rules = try await api.rules()
                missingMetrics = []
                for (name, labels) in documented {
                    var series = try await api.query(name)
                    if series.isEmpty { series = try await api.query(name + "_count") }
                    if series.isEmpty {
                        missingMetrics.append("\(name) is not exported")
                    }
                    for label in labels where !series.isEmpty && !series.contains(where: { $0[label] != nil }) {
                        missingMetrics.append("\(name) has no label \(label): \(series.prefix(3))")
                    }
                }
                let active = Set(rules.filter { $0.state == "pending" || $0.state == "firing" }.map(\.name))
                if emptyPanels.isEmpty, missingMetrics.isEmpty, expectedAlerts.isSubset(of: active) { break }
            } while ContinuousClock.now < deadline

            #expect(panels.count >= 20)
            #expect(emptyPanels.isEmpty, "panels without a series:\n\(emptyPanels.joined(separator: "\n"))")
            #expect(rules.count >= 12)
            for rule in rules {
                #expect(rule.health == "ok", "\(rule.name) does not evaluate: \(rule.lastError ?? "")")
            }
            let active = Set(rules.filter { $0.state == "pending" || $0.state == "firing" }.map(\.name))
            #expect(expectedAlerts.isSubset(of: active), "active: \(active.sorted())")

            // Every metric docs/operating.md names, with the labels it documents.
            #expect(documented.count >= 20)
            #expect(missingMetrics.isEmpty, "\(missingMetrics.joined(separator: "\n"))")
            await emulator.stop()
            withExtendedLifetime(cluster) {}
        }

        /// Each panel's queries, with Grafana's variables as a dashboard showing every instance sets them.
        static func panelQueries() throws -> [(String, String)] {
            let data = try Data(contentsOf: root.appendingPathComponent("deploy/grafana/threatpipe.json"))
            let dashboard = try JSONValue.parse(Array(data))
            var queries: [(String, String)] = []
            for panel in dashboard["panels"]?.arrayValue ?? [] where panel["type"]?.stringValue != "row" {
                for target in panel["targets"]?.arrayValue ?? [] {
                    guard let expression = target["expr"]?.stringValue else { continue }
                    let query = expression.replacingOccurrences(of: "$__rate_interval", with: "20s")
                        .replacingOccurrences(of: "$instance", with: ".*")
                    queries.append((panel["title"]?.stringValue ?? "?", query))
                }
            }
            return queries
        }

        /// The metric table of docs/operating.md: `name{label,label}` in its first column.
        static func documentedMetrics() throws -> [(String, [String])] {
            let readme = try String(contentsOf: root.appendingPathComponent("docs/operating.md"), encoding: .utf8)
            var metrics: [(String, [String])] = []
            for line in readme.split(separator: "\n") where line.hasPrefix("| `threatpipe_") {
                let cell = line.split(separator: "|")[0]
                for match in cell.matches(of: /`(threatpipe_[a-z_]+)(\{([a-z_,]+)\})?`/) {
                    metrics.append((String(match.1), match.3.map { $0.split(separator: ",").map(String.init) } ?? []))
                }
            }
            #expect(metrics.count >= 20, "the metric table of docs/operating.md")
            return metrics
        }

        static func freePort() throws -> Int {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(descriptor) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
                }
            }
            guard bound else { throw CancellationError() }
            return Int(UInt16(bigEndian: address.sin_port))
        }
    }
}

/// The parts of Prometheus's HTTP API the monitoring test reads.
struct Prometheus {
    struct Rule {
        var name: String
        var health: String
        var lastError: String?
        /// Alerting rules: inactive, pending or firing.
        var state: String?
    }

    let client: HTTPClient
    let base: String

    func isReady() async throws -> Bool {
        let response = try await client.execute(HTTPClientRequest(url: base + "/-/ready"), timeout: .seconds(5))
        return response.status.code == 200
    }

    /// The series of an instant query, as label sets.
    func query(_ expression: String) async throws -> [[String: String]] {
        let answer = try await get("/api/v1/query?query=" + (expression.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
        #expect(answer["status"]?.stringValue == "success", "\(expression): \(answer["error"]?.stringValue ?? "")")
        return (answer["data"]?["result"]?.arrayValue ?? []).map { series in
            var labels: [String: String] = [:]
            if case .object(let members)? = series["metric"] {
                for member in members { labels[member.key] = member.value.stringValue }
            }
            return labels
        }
    }

    /// Every rule loaded, with its health and (alerting rules) state.
    func rules() async throws -> [Rule] {
        let answer = try await get("/api/v1/rules")
        return (answer["data"]?["groups"]?.arrayValue ?? []).flatMap { group in
            (group["rules"]?.arrayValue ?? []).map { rule in
                Rule(
                    name: rule["name"]?.stringValue ?? "", health: rule["health"]?.stringValue ?? "",
                    lastError: rule["lastError"]?.stringValue, state: rule["state"]?.stringValue
                )
            }
        }
    }

    private func get(_ path: String) async throws -> JSONValue {
        let response = try await client.execute(HTTPClientRequest(url: base + path), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 16 << 20)
        return try JSONValue.parse(Array(buffer: body))
    }
}
