import Foundation
import Logging
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
