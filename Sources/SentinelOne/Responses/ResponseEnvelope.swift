import NIOCore
import RawJSON

/// Reads the `{"data": …, "pagination": {…}}` envelope of a 2xx answer in one validating pass, handing the
/// `data` value to a reader and collecting the pagination.
struct ResponseEnvelope {
    var nextCursor: String?
    var totalItems: Int?
    var sawData = false

    /// Scans `response`; `readData` is called with the scanner on the `data` value.
    static func scan(
        _ response: APIResponse,
        path: String,
        readData: (inout JSONScanner) throws -> Void
    ) throws(SentinelOneError) -> ResponseEnvelope {
        var envelope = ResponseEnvelope()
        var seenData = false
        var seenPagination = false
        do {
            try response.body.withUnsafeReadableBytes { bytes in
                var scanner = JSONScanner(bytes)
                try scanner.forEachMember { scanner, key in
                    if key.matches("data") {
                        // A second `data` would be read into the record after the first: never a valid record.
                        guard !seenData else { throw ShapeError(description: "the envelope has the key data twice") }
                        seenData = true
                        if try scanner.peekKind() == .null { return }
                        envelope.sawData = true
                        try readData(&scanner)
                    } else if key.matches("pagination") {
                        guard !seenPagination else { throw ShapeError(description: "the envelope has the key pagination twice") }
                        seenPagination = true
                        if try scanner.peekKind() == .null { return }
                        try scanner.forEachMember { scanner, key in
                            if key.matches("nextCursor") {
                                envelope.nextCursor = try scanner.readStringOrNull()
                            } else if key.matches("totalItems") {
                                envelope.totalItems = try scanner.readIntegerOrNull()
                            }
                        }
                    }
                }
                try scanner.expectEnd()
            }
        } catch let error as SentinelOneError {
            throw error
        } catch {
            throw malformed(response, path: path, reason: "\(error)")
        }
        guard envelope.sawData else { throw malformed(response, path: path, reason: "the answer has no data") }
        if envelope.nextCursor == "" { envelope.nextCursor = nil }
        return envelope
    }

    static func malformed(_ response: APIResponse, path: String, reason: String) -> SentinelOneError {
        let excerpt = SentinelOneClient.excerpt(of: response.body) ?? "the body is empty"
        return SentinelOneError(
            code: .malformedResponse,
            message: "GET \(path): malformed answer (HTTP \(response.status)): \(reason); \(excerpt)",
            httpStatus: response.status,
            requestID: response.requestID
        )
    }
}

/// A value of the wrong shape inside an otherwise valid envelope.
struct ShapeError: Error, CustomStringConvertible {
    var description: String
}
