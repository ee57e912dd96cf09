import Pipeline
/// A request to the console that did not give a usable answer. The message never contains the token.
public struct SentinelOneError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure: decides the exit code and whether a retry can help.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// 401: the token was rejected.
        public static let unauthorized = Code(name: "unauthorized")
        /// 403: the token lacks the permission.
        public static let forbidden = Code(name: "forbidden")
        /// 404: the resource (a deleted threat) does not exist.
        public static let notFound = Code(name: "not found")
        /// Another 4xx, e.g. 400 for a bad filter value or an expired cursor.
        public static let rejected = Code(name: "rejected")
        /// 429 or 5xx, still so after the retries.
        public static let unavailable = Code(name: "unavailable")
        /// No connection could be made, or it broke, or it timed out.
        public static let unreachable = Code(name: "unreachable")
        /// The TLS handshake failed: most often a certificate that is not trusted. Not retried.
        public static let tlsFailure = Code(name: "TLS failure")
        /// A 2xx answer that is not the documented JSON.
        public static let malformedResponse = Code(name: "malformed response")
        /// A body larger than the configured maximum.
        public static let responseTooLarge = Code(name: "response too large")
        /// A stop came while the request waited for a rate-limit token or a retry: it was not sent (again).
        public static let stopped = Code(name: "stopped")
        public var description: String { name }
    }

    public var code: Code
    /// One line: what was asked, what came back.
    public var message: String
    public var httpStatus: Int?
    /// The console's `X-RQID`, when it sent one.
    public var requestID: String?

    public init(code: Code, message: String, httpStatus: Int? = nil, requestID: String? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.requestID = requestID
    }

    /// The request to `path` was not sent because a stop came while it waited.
    static func stopped(_ path: String) -> SentinelOneError {
        SentinelOneError(code: .stopped, message: "GET \(path): not sent, stopping")
    }

    public var description: String {
        requestID.map { "\(message) (request id \($0))" } ?? message
    }
}

extension SentinelOneError: ClassifiedError {
    public var kind: FailureKind {
        switch code {
        case .unauthorized, .forbidden: return .authorization
        case .unreachable, .unavailable, .tlsFailure: return .unavailable
        case .stopped: return .interrupted
        default: return .protocolViolation
        }
    }
}
