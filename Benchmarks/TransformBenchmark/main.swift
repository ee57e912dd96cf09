// The transform benchmark: what threatpipe does per record between the network and the sinks, on one core.
//
// Reads a 1000-threat list page, one analysis answer and one explore-events answer (as files: the same inputs the
// orjson baseline reads), then per round parses the page, and for each threat parses its analysis and events
// answers and writes the enriched raw record. Prints one line: `records_per_second N`.
//
// Usage: TransformBenchmark PAGE.json ANALYSIS.json EVENTS.json SECONDS
import Durations
import Foundation
import Formats
import NIOCore
import Pipeline
import RawJSON
import SentinelOne

let arguments = CommandLine.arguments
guard arguments.count == 5, let seconds = Double(arguments[4]) else {
    FileHandle.standardError.write(Data("usage: TransformBenchmark PAGE.json ANALYSIS.json EVENTS.json SECONDS\n".utf8))
    exit(64)
}
func answer(_ path: String) throws -> APIResponse {
    APIResponse(status: 200, body: ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: path))), requestID: nil)
}
let page = try answer(arguments[1])
let analysis = try answer(arguments[2])
let events = try answer(arguments[3])
let encoder = RawRecordEncoder(consoleURL: "https://usea1.sentinelone.net")

var records = 0
var outputBytes = 0
let clock = ContinuousClock()
let started = clock.now
let budget = Duration.seconds(seconds)
while clock.now - started < budget {
    let threats = try SentinelOneResponses.threatPage(page).threats
    for threat in threats {
        let analysisData = try SentinelOneResponses.analysis(analysis)
        var threatEvents = ThreatEvents()
        _ = try SentinelOneResponses.appendEvents(events, to: &threatEvents)
        let record = encoder.encode(EnrichedThreat(threat: threat, analysis: .fetched(analysisData), events: .fetched(threatEvents)))
        outputBytes &+= record.bytes.count
        records += 1
    }
}
let elapsedSeconds = (clock.now - started).inSeconds
print("records_per_second \(Int(Double(records) / elapsedSeconds)) bytes_per_record \(outputBytes / max(records, 1))")
