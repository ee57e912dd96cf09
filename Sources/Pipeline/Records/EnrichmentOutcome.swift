/// The result of fetching one part of a threat's enrichment. Failures are data: the record is emitted either way.
public enum EnrichmentOutcome<Value: Sendable>: Sendable {
    /// The part was fetched.
    case fetched(Value)
    /// The API said the threat is gone (404): deleted between listing and enrichment.
    case notFound(EnrichmentFailure)
    /// The part could not be fetched (after retries).
    case failed(EnrichmentFailure)
    /// Not requested: `--emit changes` and a version that changed nothing tracked, decided when it was listed — its
    /// record is acknowledged unsent, so its parts would cost requests for nothing.
    case notRequested
    /// A stop came before the part was fetched (its request waited for a rate-limit token or a retry): the threat is
    /// withdrawn — not delivered, not acknowledged — and the checkpoint stays before it.
    case stopped

    /// The value when fetched.
    public var value: Value? {
        if case .fetched(let value) = self { return value }
        return nil
    }

    /// True when a stop came before the part was fetched.
    public var isStopped: Bool {
        if case .stopped = self { return true }
        return false
    }

    /// The failure when the part could not be fetched (not when the threat is gone).
    public var failedFailure: EnrichmentFailure? {
        if case .failed(let failure) = self { return failure }
        return nil
    }

    /// The failure, when not fetched.
    public var failure: EnrichmentFailure? {
        switch self {
        case .fetched, .notRequested: return nil
        case .notFound(let failure), .failed(let failure): return failure
        case .stopped: return EnrichmentFailure(message: "not fetched: stopping")
        }
    }
}

/// Why an enrichment part is missing, as recorded in the output record.
public struct EnrichmentFailure: Error, Sendable, Equatable {
    /// HTTP status of the last answer, when there was one.
    public var httpStatus: Int?
    /// A one-line explanation (the API's `detail` when it gave one). Never contains the token.
    public var message: String
    /// The API's `X-RQID` request id of the last answer, for support cases.
    public var requestID: String?

    public init(httpStatus: Int? = nil, message: String, requestID: String? = nil) {
        self.httpStatus = httpStatus
        self.message = message
        self.requestID = requestID
    }
}
