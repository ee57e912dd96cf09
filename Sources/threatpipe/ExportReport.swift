import Pipeline

/// The one-line summary an export prints to standard error when it succeeds.
struct ExportReport {
    var summary: ExportSummary
    var sinks: [String]
    var elapsed: Duration

    var line: String {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let write = summary.write
        return "threatpipe: exported \(write.records) threats with \(write.events) events "
            + "to \(sinks.joined(separator: ", ")) in \(String(format: "%.2f", seconds))s "
            + "(\(summary.fetch.pages) pages; "
            + "analysis not found \(write.analysisNotFound), failed \(write.analysisFailed); "
            + "events not found \(write.eventsNotFound), failed \(write.eventsFailed), truncated \(write.eventsTruncated))"
    }
}
