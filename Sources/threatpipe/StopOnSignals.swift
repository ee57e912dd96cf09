import Foundation
import Logging
import Pipeline
import Sinks
import UnixSignals

/// SIGTERM and SIGINT as a graceful stop: the first raises `stop` (fetching ends, what is in flight is delivered
/// and acknowledged); a second one exits at once with status 130.
enum StopOnSignals {
    /// Watches the signals until the returned task is cancelled.
    static func watch(_ stop: StopSignal, logger: Logger, meaning: String) -> Task<Void, Never> {
        Task {
            var received = 0
            for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                received += 1
                if received > 1 {
                    printError("threatpipe: second \(signal): exiting now")
                    Foundation.exit(130)
                }
                logger.notice("stopping: \(meaning)", metadata: ["signal": "\(signal)"])
                stop.requestStop()
            }
        }
    }
}

/// SIGHUP: every NDJSON sink closes and reopens its file before its next record (logrotate's `postrotate`).
enum ReopenOnHangup {
    static func watch(logger: Logger) -> Task<Void, Never> {
        Task {
            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                logger.notice("SIGHUP: reopening NDJSON files")
                NDJSONFileSink.requestReopen()
            }
        }
    }
}
