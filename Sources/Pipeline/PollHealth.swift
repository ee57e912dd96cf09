import NIOConcurrencyHelpers

/// How `run`'s polls are going, for the logs and the readiness probe: healthy while the last poll succeeded.
public final class PollHealth: Sendable {
    /// A snapshot of the state.
    public struct State: Sendable, Equatable {
        /// Polls that failed since the last one that succeeded.
        public var consecutiveFailures = 0
        /// The last failure, as logged (never holds a secret: errors do not carry the token).
        public var lastError: String?
        /// Polls that completed.
        public var successfulPolls = 0

        /// No poll has failed since the last success.
        public var isHealthy: Bool { consecutiveFailures == 0 }
    }

    private let current = NIOLockedValueBox(State())

    public init() {}

    public var state: State { current.withLockedValue { $0 } }

    func recordSuccess() {
        current.withLockedValue {
            $0.consecutiveFailures = 0
            $0.lastError = nil
            $0.successfulPolls += 1
        }
    }

    /// Returns the number of consecutive failures, this one included.
    public func recordFailure(_ error: any Error) -> Int {
        current.withLockedValue {
            $0.consecutiveFailures += 1
            $0.lastError = "\(error)"
            return $0.consecutiveFailures
        }
    }
}
