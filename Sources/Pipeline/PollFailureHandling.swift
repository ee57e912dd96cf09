/// What `run` does when a poll fails.
public enum PollFailureHandling: Sendable {
    /// Stop the run: retrying cannot fix it (bad configuration, an unusable state file).
    case stop
    /// Log it and poll again after a backoff (an unreachable or overloaded console, a failed delivery).
    case retry
    /// As `retry`, but at critical level: a person has to act (a rejected token, a missing permission).
    case retryAndAlert
}
