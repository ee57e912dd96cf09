/// What kind of failure an error is, decided where it is raised: `export` turns it into an exit status and `run`
/// into stop-or-retry, each with one small table over these kinds.
public enum FailureKind: String, Sendable, CaseIterable {
    /// A flag, filter, URL, property or stored state of the wrong owner: nothing a retry can fix.
    case configuration
    /// The console rejected the token (401) or its permissions (403): a person must act.
    case authorization
    /// The console could not be reached or kept failing (429, 5xx, timeouts, TLS).
    case unavailable
    /// The console answered something that is not the documented API.
    case protocolViolation = "protocol"
    /// A sink could not take or keep records (a file, a Kafka delivery).
    case sink
    /// A sink rejects a record for good (too large, unknown topic) and there is no dead-letter file.
    case rejectedRecord = "rejected record"
    /// What a run stores — the checkpoint (a state file, a checkpoint topic) or the threats' state — cannot be read
    /// or written, or is not the run's.
    case storage
    /// Stopped by a signal before the work was complete.
    case interrupted
    /// Another process with the same instance id took over (it fenced this one's Kafka transactions): this one must
    /// stop writing at once.
    case fenced

    /// The kind of `error`; nil for an error nobody classified (an internal error).
    public static func of(_ error: any Error) -> FailureKind? {
        (error as? any ClassifiedError)?.kind
    }
}

/// An error that says which ``FailureKind`` it is.
public protocol ClassifiedError: Error {
    var kind: FailureKind { get }
}

extension PipelineError: ClassifiedError {
    /// The kind of the error that caused it, or the pipeline's own: a cursor cycle is the console's fault, the rest
    /// the sinks'.
    public var kind: FailureKind {
        if let underlying, let kind = FailureKind.of(underlying) { return kind }
        return code == .sourceLoop ? .protocolViolation : .sink
    }
}

extension EnrichmentFailure: ClassifiedError {
    /// 401/403: authorization; a 2xx that is not the documented answer: protocol; anything else: unavailable.
    public var kind: FailureKind {
        switch httpStatus {
        case 401?, 403?: return .authorization
        case let status? where (200..<300).contains(status): return .protocolViolation
        default: return .unavailable
        }
    }
}
