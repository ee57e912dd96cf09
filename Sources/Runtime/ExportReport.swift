import Durations
import Foundation
import Pipeline
import SentinelOne

/// The one-line summary an export prints to standard error when it succeeds.
public struct ExportReport: Sendable {
    var summary: ExportSummary
    var requests: RequestStatistics.Snapshot
    var sinks: [String]
    var elapsed: Duration
    /// `--rate-limit auto`: the rate reached at the end.
    var adaptiveRate: Double? = nil

    public var line: String {
        let write = summary.write
        let stopped = summary.fetch.stoppedEarly ? "stopped by a signal; " : ""
        return "threatpipe: \(stopped)exported \(write.records) threats with \(write.events) events "
            + "to \(sinks.joined(separator: ", ")) in \(Self.seconds(elapsed))s "
            + "(\(summary.fetch.pages) pages; \(requests.requests) requests, \(requests.retries) retries, "
            + "rate-limit wait \(Self.seconds(requests.rateLimitWait))s"
            + (adaptiveRate.map { ", rate-limit auto at " + String(format: "%.1f", $0) + "/s" } ?? "") + "; "
            + "analysis not found \(write.analysisNotFound), failed \(write.analysisFailed); "
            + "events not found \(write.eventsNotFound), failed \(write.eventsFailed), truncated \(write.eventsTruncated))"
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.2f", duration.inSeconds)
    }
}
