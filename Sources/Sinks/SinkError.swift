/// A sink that could not take or keep a record.
public struct SinkError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// The message alone: the pipeline names the sink.
    public var description: String { message }
}
