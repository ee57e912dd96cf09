import Kafka
import Persistence
import Pipeline
import SentinelOne
import Sinks

/// The process exit codes (sysexits.h values), one per kind of failure, as documented in docs/running.md.
public enum ExitStatus: Int32, Sendable {
    case success = 0
    case internalError = 1
    /// A bad flag, filter, console URL, Kafka property, or a missing/unreadable token: nothing was requested.
    case usage = 64
    /// The console could not be reached, or kept answering 429/5xx.
    case unavailable = 69
    /// A sink could not write or make records durable (a Kafka delivery failed); or not every record was acknowledged.
    case ioError = 74
    /// The console answered something that is not the documented API (malformed JSON, 400 on a request).
    case protocolError = 76
    /// The state file cannot be read or written.
    case dataError = 65
    /// The export was stopped (SIGTERM/SIGINT) before it listed every threat: what was delivered is intact, and the
    /// export is safe to run again.
    case incomplete = 75
    /// The console rejected the token (401) or its permissions (403).
    case permissionDenied = 77
    /// Exactly once: another process started with the same instance id and fenced this one's transactions.
    case fenced = 78

    public static let documentation = """
        Exit status: 0 every record reached every sink; 64 bad usage or configuration (flag, filter, URL, token, \
        Kafka property); 69 console unreachable, untrusted TLS certificate, or unavailable; 74 sink error (a Kafka delivery failed, a file \
        could not be written) or unacknowledged records; 76 malformed or rejected API answer; 77 token rejected \
        (401) or permission denied (403); 65 unusable state file (run); 75 stopped by a signal before every threat was \
        listed (export; what was delivered is intact, safe to rerun); 78 fenced: another process took over the same \
        --instance-id (run --delivery exactly-once); 1 internal error.
        """

    /// The exit status an error maps to: by its ``FailureKind``, decided where it was raised.
    public static func of(_ error: any Error) -> ExitStatus {
        guard let kind = FailureKind.of(error) else { return .internalError }
        return forKind(kind)
    }

    /// `export`'s table: one exit status per kind of failure (a `switch`, so a new kind cannot go without one).
    public static func forKind(_ kind: FailureKind) -> ExitStatus {
        switch kind {
        case .configuration: .usage
        case .authorization: .permissionDenied
        case .unavailable: .unavailable
        case .protocolViolation: .protocolError
        case .sink, .rejectedRecord: .ioError
        case .storage: .dataError
        case .interrupted: .incomplete
        case .fenced: .fenced
        }
    }
}

/// An export stopped by a signal before it listed every threat.
public struct ExportInterrupted: ClassifiedError, CustomStringConvertible {
    public var kind: FailureKind { .interrupted }
    public var delivered: Int
    public var description: String {
        "export stopped before it listed every threat (\(delivered) records delivered, each acknowledged by every "
            + "sink); incomplete, safe to rerun"
    }
}

/// A problem with the options or environment found before any work is done.
public struct ConfigurationError: ClassifiedError, CustomStringConvertible {
    public var kind: FailureKind { .configuration }
    public var description: String

    public init(description: String) {
        self.description = description
    }
}
