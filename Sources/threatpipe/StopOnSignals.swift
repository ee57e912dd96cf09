import Foundation
import Logging
import Pipeline
import Sinks
import UnixSignals

/// SIGTERM and SIGINT: the first starts the service group's graceful shutdown (the group traps it too) and is
/// logged here; a second one exits at once with status 130 — the state file never claims more than was acknowledged.
enum StopOnSignals {
    /// Watches the signals until the returned task is cancelled.
    static func watch(logger: Logger, meaning: String) -> Task<Void, Never> {
        Task {
            var received = 0
            for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                received += 1
                if received > 1 {
                    printError("threatpipe: second \(signal): exiting now")
                    Foundation.exit(130)
                }
                logger.notice("stopping: \(meaning)", metadata: ["signal": "\(signal)"])
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
