import Logging
import Sinks
import UnixSignals

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
