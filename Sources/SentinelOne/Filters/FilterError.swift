import Pipeline
/// A `--filter` option that cannot be sent: rejected before any request is made.
public struct FilterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The option as given.
    public var option: String
    /// What is wrong with it, with the closest valid name for a misspelling.
    public var reason: String

    public init(option: String, reason: String) {
        self.option = option
        self.reason = reason
    }

    public var description: String { "invalid filter '\(option)': \(reason)" }
}

extension FilterError: ClassifiedError {
    public var kind: FailureKind { .configuration }
}
