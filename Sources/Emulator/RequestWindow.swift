import Durations
import NIOConcurrencyHelpers

/// The `limit=R` fault's rate limit, as consoles keep one: a token bucket of R requests a second holding at most R
/// (a second's burst); a request that finds it empty is refused.
final class RequestWindow: Sendable {
    private struct Bucket {
        var tokens: Double
        var refilled: ContinuousClock.Instant
    }

    private let limit: Double
    private let bucket: NIOLockedValueBox<Bucket>

    init(limit: Double) {
        self.limit = limit
        self.bucket = NIOLockedValueBox(Bucket(tokens: limit, refilled: .now))
    }

    /// Whether a request arriving now may be answered (and takes its token when it may).
    func admit(now: ContinuousClock.Instant = .now) -> Bool {
        bucket.withLockedValue { bucket in
            bucket.tokens = min(limit, bucket.tokens + (now - bucket.refilled).inSeconds * limit)
            bucket.refilled = now
            guard bucket.tokens >= 1 else { return false }
            bucket.tokens -= 1
            return true
        }
    }
}
