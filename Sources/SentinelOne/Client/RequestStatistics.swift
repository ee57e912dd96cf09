import NIOConcurrencyHelpers

/// Counters of one console's requests, shared by every task using the client: what the summary line and the
/// metrics report about the API side.
public final class RequestStatistics: Sendable {
    /// A snapshot of the counters.
    public struct Snapshot: Sendable, Equatable {
        /// Requests sent, retries included.
        public var requests = 0
        /// Requests sent again after a transient failure.
        public var retries = 0
        /// Time spent waiting for the rate limiter, summed over requests.
        public var rateLimitWait: Duration = .zero
        /// Time spent in backoff before retries, summed over requests.
        public var retryWait: Duration = .zero

        public init() {}
    }

    private let counters = NIOLockedValueBox(Snapshot())

    public init() {}

    public var snapshot: Snapshot { counters.withLockedValue { $0 } }

    func recordRequest(rateLimitWait: Duration) {
        counters.withLockedValue {
            $0.requests += 1
            $0.rateLimitWait += rateLimitWait
        }
    }

    func recordRetry(after wait: Duration) {
        counters.withLockedValue {
            $0.retries += 1
            $0.retryWait += wait
        }
    }
}
