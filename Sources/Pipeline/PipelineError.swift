/// An error that stops the pipeline, with a code that says which part failed.
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// A sink could not take or keep a record.
        public static let sinkFailed = Code(name: "sink failed")
        /// The source kept returning the same cursor.
        public static let sourceLoop = Code(name: "source loop")
        /// Not every record was acknowledged by every sink.
        public static let unacknowledged = Code(name: "records not acknowledged")
        public var description: String { name }
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
