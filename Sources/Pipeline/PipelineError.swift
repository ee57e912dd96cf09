/// An error that stops the pipeline, with a code that says which part failed.
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// A sink could not take or keep a record.
        public static let sinkFailed = Code(name: "sink failed")
        /// The source's cursors went round in a cycle (a cursor of the pass came again).
        public static let sourceLoop = Code(name: "source loop")
        /// A threat's analysis or events could not be fetched, and the export was told to fail on that.
        public static let enrichmentFailed = Code(name: "enrichment failed")
        /// Not every record was acknowledged by every sink.
        public static let unacknowledged = Code(name: "records not acknowledged")
        public var description: String { name }
    }

    public var code: Code
    public var message: String
    /// The error that caused this one, e.g. a sink's own error.
    public var underlying: (any Error)?

    public init(code: Code, message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }
}
