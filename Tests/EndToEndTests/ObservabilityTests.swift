import AsyncHTTPClient
import Foundation
import NIOCore
import TestSupport
import Testing
import Emulator
import NIOHTTP1

extension EndToEnd {
    /// `--metrics-listen` during an export: `/metrics` parses as Prometheus text and its counters move, `/healthz`
    /// and `/readyz` answer; SIGTERM mid-export delivers what is in flight and exits 75
    /// (incomplete, safe to rerun): a script must not read a part of the threats as a finished export.
    @Suite(.serialized) struct ObservabilityTests {
        /// `name{labels} value` per sample line, comments aside; any other line is not Prometheus text.
        static func samples(_ text: String) throws -> [String: Double] {
            var samples: [String: Double] = [:]
            let sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?) (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let match = try #require(try sample.wholeMatch(in: String(line)), "not Prometheus text: \(line)")
                samples[String(match.1)] = Double(match.3)
            }
            return samples
        }

        static func get(_ client: HTTPClient, _ url: String) async throws -> (status: UInt, body: String) {
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 4 << 20)
            return (response.status.code, String(buffer: body))
        }

        /// The address the run logged (`metrics listening address=http://…`), once it did.
        static func metricsAddress(_ command: ThreatpipeCommand) async throws -> String {
            while true {
                if let line = command.stderrSoFar.split(separator: "\n").first(where: { $0.contains("metrics listening") }),
                    let range = line.range(of: #"http://[0-9.]+:[0-9]+"#, options: .regularExpression)
                {
                    return String(line[range])
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }

        @Test(.timeLimit(.minutes(2))) func metricsMoveDuringAnExportAndSigtermDrainsAndExits75() async throws {
            let emulator = try await RunningEmulator.start(threats: 400, latency: .milliseconds(10))
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let output = command.path("out.ndjson")
            let export = try command.start(
                ["export", "--console-url", emulator.url, "--rate-limit", "60", "--output", output,
                 "--metrics-listen", "127.0.0.1:0", "--log-format", "json"],
                environment: ["S1_API_TOKEN": emulator.token]
            )
            let address = try await Self.metricsAddress(command)
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            let health = try await Self.get(client, address + "/healthz")
            let ready = try await Self.get(client, address + "/readyz")
            await emulator.api.waitForRequests(atLeast: 40)
            let first = try Self.samples(try await Self.get(client, address + "/metrics").body)
            await emulator.api.waitForRequests(atLeast: emulator.api.requestCounts.total + 30)
            let second = try Self.samples(try await Self.get(client, address + "/metrics").body)
            export.send(SIGTERM)
            let result = await export.wait()
            try await client.shutdown()
            await emulator.stop()

            #expect(health.status == 200 && ready.status == 200, "\(ready.body)")
            let fetched = "threatpipe_threats_fetched_total"
            #expect((first[fetched] ?? 0) > 0)
            let analysisOK = #"threatpipe_api_requests_total{endpoint="analysis",status="200"}"#
            #expect((second[analysisOK] ?? 0) > (first[analysisOK] ?? 0), "the request counter moved")
            let emitted = #"threatpipe_records_emitted_total{sink="ndjson:\#(output)"}"#
            #expect((second[emitted] ?? 0) > (first[emitted] ?? 0), "\(second.keys.sorted())")
            #expect((second["threatpipe_rate_limit_wait_seconds_total"] ?? 0) > 0)
            #expect(second["threatpipe_records_in_flight"] != nil)
            #expect(second[#"threatpipe_queue_depth{edge="fetched"}"#] != nil && second[#"threatpipe_queue_depth{edge="enriched"}"#] != nil)

            let stderr = command.stderrSoFar
            #expect(result.status == 75, "\(stderr)")
            #expect(stderr.contains("stopped by a signal; exported"), "\(stderr)")
            #expect(stderr.contains("incomplete, safe to rerun"), "\(stderr)")
            let logLines = stderr.split(separator: "\n").filter { $0.hasPrefix("{") }
            #expect(!logLines.isEmpty && logLines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
            let records = try RecordExpectations.lines(Data(contentsOf: URL(fileURLWithPath: output)))
            #expect(records.count > 0 && records.count < 400, "stopped part-way, with what was fetched delivered")
            let summary = try #require(stderr.split(separator: "\n").last { $0.contains("exported") })
            #expect(summary.contains("exported \(records.count) threats"), "every fetched record reached the file: \(summary)")
        }
    }
}
