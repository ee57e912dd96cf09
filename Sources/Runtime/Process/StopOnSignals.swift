import Dispatch
import Foundation
import Logging
import Pipeline
import UnixSignals

/// SIGTERM and SIGINT: the first starts the service group's graceful shutdown (the group traps it too) and is
/// logged here; a second one exits at once with status 130 — the state file never claims more than was acknowledged.
/// A graceful stop that has not finished ``stopBound`` after the first signal (a Kafka flush, commit or close that a
/// cluster does not answer) exits with status 74 and one line: below every manifest's terminationGracePeriodSeconds,
/// so the process says why rather than being killed silently; nothing unacknowledged was saved as delivered.
enum StopOnSignals {
    /// How long a graceful stop may take.
    static let stopBound = Duration.seconds(30)

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
                let seconds = stopBound.components.seconds
                DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Int(seconds))) {
                    printError(
                        "threatpipe: error: the stop did not finish within \(seconds) s (a Kafka flush, commit or close the "
                            + "cluster did not answer; librdkafka's last complaint is logged above): exiting; what was not "
                            + "acknowledged goes out again at the next start"
                    )
                    Foundation.exit(ExitStatus.ioError.rawValue)
                }
            }
        }
    }
}
