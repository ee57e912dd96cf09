import Foundation
import Logging
import Pipeline
import UnixSignals

/// SIGTERM and SIGINT: the first starts the service group's graceful shutdown (the group traps it too) and is
/// logged here; a second one exits at once with status 130 — the state file never claims more than was acknowledged.
enum StopOnSignals {
    /// Traps the signals before it returns — a signal that comes before the work started its service group (an audit
    /// of a few threats lists them within milliseconds) stops the work instead of killing the process — and watches
    /// them until the returned task is cancelled. The first raises `stop` too, for a group not yet trapping them.
    static func watch(logger: Logger, meaning: String, stop: StopSignal) async -> Task<Void, Never> {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        return Task {
            var received = 0
            for await signal in signals {
                received += 1
                stop.requestStop()
                if received > 1 {
                    printError("threatpipe: second \(signal): exiting now")
                    Foundation.exit(130)
                }
                logger.notice("stopping: \(meaning)", metadata: ["signal": "\(signal)"])
            }
        }
    }
}
